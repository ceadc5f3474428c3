// keiryoku: comfort only. Every page and every action works without this file.
"use strict";
(function () {
  // Autosave: a section form marked data-autosave saves itself a few seconds after the last
  // change, with the same POST as its save button, and keeps the version it was given.
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    var status = form.querySelector(".autosave-status");
    var version = form.querySelector("input[name=version]");
    var timer = null;
    var saving = false;
    function say(text) { if (status) { status.textContent = text; } }
    function save() {
      if (saving) { timer = setTimeout(save, 1000); return; }
      saving = true;
      var body = new URLSearchParams(new FormData(form));
      body.set("action", "autosave");
      fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                           headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (response.status === 409) {
            say("別の画面で更新されています。保存ボタンを押すと、両方の内容を比べて選べます。");
            return null;
          }
          if (!response.ok) { say("自動保存できませんでした。保存ボタンで保存してください。"); return null; }
          return response.json();
        })
        .then(function (answer) {
          if (answer && version) {
            version.value = String(answer.version);
            var now = new Date();
            say("自動保存しました（" + now.getHours() + "時" + String(now.getMinutes()).padStart(2, "0") + "分）");
          }
        })
        .catch(function () { say("自動保存できませんでした。保存ボタンで保存してください。"); })
        .finally(function () { saving = false; });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(save, 3000);
    });
    form.addEventListener("submit", function () { clearTimeout(timer); });
  });
})();

(function () {
  // 経営指標: the rate as the applicant types, as the server computes it on save
  // (伸び率 = (B − A) ÷ A, 減少率 = (A − B) ÷ A, in percent, cut to two decimals), and
  // 労働生産性 from its inputs: (営業利益 + 人件費 + 減価償却費) ÷ 労働投入量.
  var form = document.querySelector("form[data-indicators]");
  if (!form) { return; }
  var specs = {};
  try { specs = JSON.parse(form.getAttribute("data-indicators")); } catch (e) { return; }
  function number(input) {
    if (!input) { return NaN; }
    var text = input.value.normalize("NFKC").replace(/[,，\s]/g, "");
    return text === "" ? NaN : Number(text);
  }
  function field(row, name) {
    return form.querySelector("[name='/indicators/" + row + "/" + name + "']");
  }
  function productivity(row, prefix) {
    var op = number(field(row, prefix + "/operating_profit"));
    var pc = number(field(row, prefix + "/personnel_cost"));
    var dep = number(field(row, prefix + "/depreciation"));
    var labour = number(field(row, prefix + "/labour_input"));
    if ([op, pc, dep, labour].some(isNaN) || labour === 0) { return NaN; }
    return (op + pc + dep) / labour;
  }
  function update(fieldset) {
    var row = fieldset.getAttribute("data-row");
    var out = fieldset.querySelector("[data-live-result]");
    if (!out) { return; }
    var id = (field(row, "indicator_id") || {}).value || "";
    var spec = specs[id] || {};
    var direction = id === "custom" ? ((field(row, "direction") || {}).value || "higher") : (spec.direction || "higher");
    var a = number(field(row, "baseline"));
    var b = number(field(row, "target"));
    var lines = [];
    if (id === "labour_productivity") {
      var pa = productivity(row, "baseline_inputs");
      var pb = productivity(row, "target_inputs");
      if (!isNaN(pa)) { lines.push("入力から計算した現状の労働生産性：" + pa.toFixed(2)); if (isNaN(a)) { a = pa; } }
      if (!isNaN(pb)) { lines.push("入力から計算した目標の労働生産性：" + pb.toFixed(2)); if (isNaN(b)) { b = pb; } }
    }
    if (!isNaN(a) && !isNaN(b) && a > 0) {
      var change = direction === "lower" ? (a - b) : (b - a);
      var rate = Math.trunc(change / a * 10000) / 100;
      var label = direction === "lower" ? "減少率" : "伸び率";
      var text = label + "：" + rate.toFixed(2) + "%";
      if (spec.threshold) {
        text += Number(rate) >= Number(spec.threshold) ? "（指針の目標 " + spec.threshold + "% 以上を満たしています）" : "（指針の目標 " + spec.threshold + "% 以上を満たしていません）";
      }
      lines.push(text + "　※保存すると確定します");
    }
    out.textContent = lines.join("　");
    out.hidden = lines.length === 0;
  }
  form.querySelectorAll("fieldset[data-row]").forEach(function (fieldset) {
    fieldset.addEventListener("input", function () { update(fieldset); });
    fieldset.addEventListener("change", function () { update(fieldset); });
    update(fieldset);
  });
})();

(function () {
  // 事業分野: search the industry classification as the applicant types (the same search as
  // the 「探す」 button, through /reference/industries).
  var input = document.getElementById("jsic-q");
  var results = document.getElementById("jsic-results");
  if (!input || !results) { return; }
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim();
      if (q === "") { results.textContent = ""; return; }
      fetch("/reference/industries?limit=30&q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) {
          if (!answer) { return; }
          var items = answer.items.filter(function (i) { return i.code.length === 2 || i.code.length === 4; });
          results.textContent = "";
          var p = document.createElement("p");
          p.textContent = items.length === 0 ? "「" + q + "」に当たる分類はありません。" : "「" + q + "」の検索結果（" + items.length + "件まで表示）";
          results.appendChild(p);
          var ul = document.createElement("ul");
          items.forEach(function (i) {
            var li = document.createElement("li");
            var code = document.createElement("strong");
            code.textContent = i.code;
            li.appendChild(code);
            li.appendChild(document.createTextNode(" " + i.name));
            ul.appendChild(li);
          });
          results.appendChild(ul);
        })
        .catch(function () {});
    }, 300);
  });
})();
