#!/usr/bin/env python3
"""Lines per Rust function, longest first: the figure the lifecycle refactor is measured by.

Usage: python3 infra/metrics/fn_lengths.py [--top N] [--handlers] DIR...

A function runs from its `fn` line to the brace that closes its body (comments and strings are
skipped when counting braces). `--handlers` keeps only axum handlers: async functions whose
parameters take a `State(` extractor.
"""
import argparse
import pathlib
import re
import sys

FN = re.compile(r'^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)')


def strip(line, state):
    """The line without comments and string contents; state carries block comments across lines."""
    out = []
    i = 0
    while i < len(line):
        if state['block']:
            end = line.find('*/', i)
            if end < 0:
                return ''.join(out)
            state['block'] = False
            i = end + 2
            continue
        c = line[i]
        if line.startswith('//', i):
            break
        if line.startswith('/*', i):
            state['block'] = True
            i += 2
            continue
        if c == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == '\\' else 1
            i = j + 1
            out.append('""')
            continue
        if c == "'" and i + 2 < len(line) and (line[i + 2] == "'" or line[i + 1] == '\\'):
            j = line.find("'", i + 2)
            i = (j + 1) if j > 0 else i + 1
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def functions(path):
    lines = path.read_text(encoding='utf-8').splitlines()
    state = {'block': False}
    clean = [strip(l, state) for l in lines]
    for start, line in enumerate(clean):
        m = FN.match(line)
        if not m:
            continue
        depth = 0
        opened = False
        signature = []
        for end in range(start, len(clean)):
            text = clean[end]
            if not opened:
                signature.append(text)
            for ch in text:
                if ch == '{':
                    depth += 1
                    opened = True
                elif ch == '}':
                    depth -= 1
                elif ch == ';' and not opened and depth == 0:
                    break
            else:
                if opened and depth == 0:
                    yield m.group(1), start + 1, end - start + 1, ' '.join(signature)
                    break
                continue
            break


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dirs', nargs='+')
    p.add_argument('--top', type=int, default=10)
    p.add_argument('--handlers', action='store_true')
    a = p.parse_args()
    rows = []
    for d in a.dirs:
        for f in sorted(pathlib.Path(d).rglob('*.rs')):
            if 'target' in f.parts:
                continue
            for name, line, length, sig in functions(f):
                if a.handlers and not ('async' in sig and 'State(' in sig):
                    continue
                rows.append((length, f'{f}:{line}', name))
    rows.sort(reverse=True)
    for length, where, name in rows[:a.top]:
        print(f'{length:5d}  {name:32s} {where}')
    print(f'{len(rows)} functions', file=sys.stderr)


if __name__ == '__main__':
    main()
