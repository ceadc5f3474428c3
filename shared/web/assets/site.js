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
