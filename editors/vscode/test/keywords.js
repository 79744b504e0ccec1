// Every keyword of grammar/FlowLexer.g4 is coloured by the TextMate grammar,
// so the two cannot drift: a keyword added to the lexer fails this test
// until syntaxes/flow.tmLanguage.json colours it and the table below says how.
//
// It reads the lexer's keyword rules (`NAME : 'word' ;`), writes one line per
// keyword in a context where the lexer reads it as a keyword, with a
// vscode-tmgrammar-test assertion of the scope it must have, and runs
// vscode-tmgrammar-test (VS Code's own TextMate engine) on that file.
//
//   node test/keywords.js [path/to/FlowLexer.g4]
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const lexerPath = process.argv[2] || path.resolve(root, '..', '..', 'grammar', 'FlowLexer.g4');

// The scope each keyword must carry (every keyword of SPEC 2.1, `break`,
// `continue` and the contextual `limit` included); the lexer's are checked.
const expected = {
  connector: 'storage.type.flow', type: 'storage.type.flow', let: 'storage.type.flow',
  var: 'storage.type.flow', fn: 'storage.type.function.flow', workflow: 'storage.type.function.flow',
  if: 'keyword.control.flow', else: 'keyword.control.flow', for: 'keyword.control.flow',
  in: 'keyword.control.flow', while: 'keyword.control.flow', return: 'keyword.control.flow',
  fail: 'keyword.control.flow', try: 'keyword.control.flow', catch: 'keyword.control.flow',
  break: 'keyword.control.flow', continue: 'keyword.control.flow',
  checkpoint: 'keyword.control.workflow.flow', approve: 'keyword.control.workflow.flow',
  wait: 'keyword.control.workflow.flow', sleep: 'keyword.control.workflow.flow',
  parallel: 'keyword.control.workflow.flow',
  retry: 'keyword.other.clause.flow', timeout: 'keyword.other.clause.flow',
  compensate: 'keyword.other.clause.flow', from: 'keyword.other.clause.flow',
  backoff: 'keyword.other.clause.flow', max: 'keyword.other.clause.flow',
  on: 'keyword.other.clause.flow', limit: 'keyword.other.clause.flow',
  true: 'constant.language.boolean.flow', false: 'constant.language.boolean.flow',
  null: 'constant.language.null.flow',
  and: 'keyword.operator.expression.flow', or: 'keyword.operator.expression.flow',
  not: 'keyword.operator.expression.flow', as: 'keyword.operator.expression.flow',
};
// Contextual keywords are keywords only where the language makes them so.
const contexts = {
  backoff: 'retry 3 backoff 1s',
  max: 'retry 3 backoff 1s max 1m',
  on: 'retry 3 on "timeout"',
  limit: 'parallel for x in xs limit 4 {',
  type: 'type T = int',
  connector: 'connector c = "c.json"',
  fn: 'fn f() {',
  workflow: 'workflow w() {',
  let: 'let x = 1',
  var: 'var x = 1',
};

function lexerKeywords(text) {
  const words = [];
  for (const m of text.matchAll(/^\s*([A-Z_]+)\s*:\s*'([a-z]+)'\s*;/gm)) words.push(m[2]);
  return words;
}

function main() {
  const words = lexerKeywords(fs.readFileSync(lexerPath, 'utf8'));
  // Fewer than this means the rule pattern above no longer reads the lexer.
  if (words.length < 30) {
    console.error(`keywords: found only ${words.length} keywords in ${lexerPath}`);
    return 1;
  }
  const missing = words.filter((w) => !(w in expected));
  if (missing.length > 0) {
    console.error(`keywords: FlowLexer.g4 has keywords the grammar test does not know: ${missing.join(', ')}.` +
      ' Colour them in syntaxes/flow.tmLanguage.json and add them to test/keywords.js.');
    return 1;
  }
  const lines = ['// SYNTAX TEST "source.flow" "every keyword of FlowLexer.g4"'];
  for (const word of words) {
    // Indented, so the assertion's caret can sit under the keyword.
    const line = '    ' + (contexts[word] || `${word} `);
    const at = line.search(new RegExp(`\\b${word}\\b`));
    lines.push(line);
    lines.push('//' + ' '.repeat(at - 2) + '^'.repeat(word.length) + ' ' + expected[word]);
    if (line.endsWith('{')) lines.push('}');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flow-keywords-'));
  const file = path.join(dir, 'keywords.test.flow');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const tool = path.join(root, 'node_modules', '.bin', 'vscode-tmgrammar-test');
  const run = spawnSync(tool, ['-g', path.join(root, 'syntaxes', 'flow.tmLanguage.json'), file],
    { encoding: 'utf8' });
  process.stdout.write(run.stdout || '');
  process.stderr.write(run.stderr || '');
  if (run.error) {
    console.error(`keywords: cannot run ${tool}: ${run.error.message} (run scripts/install-deps.sh)`);
    return 1;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (run.status === 0) console.log(`keywords: all ${words.length} keywords of FlowLexer.g4 are coloured`);
  return run.status === 0 ? 0 : 1;
}

process.exit(main());
