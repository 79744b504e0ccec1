// The flow extension for VS Code: starts `flow lsp` (diagnostics as you type,
// hover, go to definition, completion, symbols, formatting, quick fixes) and
// adds the command "flow: Show Workflow Graph", which asks the server for the
// workflow under the cursor as Graphviz DOT (the server's `flow/graph`
// request, docs/editors.md) and shows it drawn by `dot -Tsvg` beside the
// editor, redrawn as the file changes.
//
// Plain JavaScript on purpose: no build step between the repository and the
// .vsix.
'use strict';

const vscode = require('vscode');
const { spawn } = require('child_process');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;
let graph;  // { panel, uri, timer } while a graph view is open

function activate(context) {
  const config = vscode.workspace.getConfiguration('flow');
  const command = config.get('path') || 'flow';
  const serverOptions = {
    run: { command, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command, args: ['lsp'], transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'flow' },
      { scheme: 'untitled', language: 'flow' },
    ],
    // Connector files: when one changes, the server re-checks every open .flow.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.json') },
  };
  client = new LanguageClient('flow', 'flow', serverOptions, clientOptions);
  client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `flow: could not start '${command} lsp' (${err.message}). Set "flow.path" to the flow binary.`);
  });
  context.subscriptions.push(
    vscode.commands.registerCommand('flow.showGraph', showGraph),
    vscode.workspace.onDidChangeTextDocument((e) => scheduleRedraw(e.document)),
  );
}

function deactivate() {
  return client ? client.stop() : undefined;
}

async function showGraph() {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'flow') {
    vscode.window.showInformationMessage('flow: open a .flow file to see its workflow graph.');
    return;
  }
  if (!graph) {
    const panel = vscode.window.createWebviewPanel(
      'flowGraph', 'Workflow graph', vscode.ViewColumn.Beside, { enableScripts: false });
    graph = { panel, uri: null, position: null, timer: null };
    panel.onDidDispose(() => { graph = undefined; });
  }
  graph.uri = editor.document.uri.toString();
  graph.position = editor.selection.active;
  graph.panel.reveal(vscode.ViewColumn.Beside, true);
  await redraw();
}

function scheduleRedraw(document) {
  if (!graph || document.uri.toString() !== graph.uri) return;
  clearTimeout(graph.timer);
  graph.timer = setTimeout(redraw, 400);
}

async function redraw() {
  if (!graph) return;
  const view = graph;
  let answer;
  try {
    answer = await client.sendRequest('flow/graph', {
      textDocument: { uri: view.uri },
      position: { line: view.position.line, character: view.position.character },
      format: 'dot',
    });
  } catch (err) {
    view.panel.webview.html = page('Workflow graph', `<p>${escapeHtml(err.message)}</p>`);
    return;
  }
  view.panel.title = `graph: ${answer.workflow}`;
  const dot = vscode.workspace.getConfiguration('flow').get('graph.dotPath') || 'dot';
  try {
    const svg = await render(dot, answer.text);
    view.panel.webview.html = page(answer.workflow, svg.slice(svg.indexOf('<svg')));
  } catch (err) {
    view.panel.webview.html = page(answer.workflow,
      `<p>Drawing the graph needs Graphviz (${escapeHtml(err.message)}): install it ` +
      '(<code>apt install graphviz</code>, <code>brew install graphviz</code>) or set ' +
      '<code>flow.graph.dotPath</code>. The graph in DOT:</p>' +
      `<pre>${escapeHtml(answer.text)}</pre>`);
  }
}

// Runs `dot -Tsvg` on the DOT text; resolves with the SVG.
function render(dot, text) {
  return new Promise((resolve, reject) => {
    const child = spawn(dot, ['-Tsvg'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err || `exit ${code}`))));
    child.stdin.end(text);
  });
}

function page(title, body) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
<title>${escapeHtml(title)}</title>
<style>body { background: #fff; color: #222; font-family: sans-serif; } svg { max-width: 100%; height: auto; }</style>
</head><body>${body}</body></html>`;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

module.exports = { activate, deactivate };
