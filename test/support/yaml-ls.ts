/**
 * A minimal Language Server Protocol client for the real npm `yaml-language-server`, spoken over
 * stdio exactly as an editor does: initialize, push the `yaml.*` settings, open documents, collect
 * the diagnostics the server publishes, ask for completions. The server reads each file's
 * `# yaml-language-server: $schema=…` modeline and loads that schema from disk itself.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  severity?: number;
  source?: string;
}

export interface CompletionItem {
  label: string;
  insertText?: string;
}

type Message = { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } };

/** Where the installed server's entry point is (a devDependency). */
export function yamlLanguageServerEntry(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('yaml-language-server/package.json');
  const { bin } = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin: Record<string, string> };
  return path.join(path.dirname(pkgFile), bin['yaml-language-server']!);
}

export class YamlLanguageServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly diagnostics = new Map<string, Diagnostic[]>();
  private readonly waiters = new Map<string, ((d: Diagnostic[]) => void)[]>();
  private readonly versions = new Map<string, number>();
  stderr = '';

  constructor(entry = yamlLanguageServerEntry()) {
    this.child = spawn(process.execPath, [entry, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.on('exit', (code) => {
      for (const { reject } of this.pending.values()) reject(new Error(`yaml-language-server exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  /** Starts the session with the settings an editor with the YAML extension sends. */
  async initialize(rootDir: string): Promise<void> {
    await this.request('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(rootDir).href,
      capabilities: { textDocument: { publishDiagnostics: {}, completion: { completionItem: { snippetSupport: true } } } },
      initializationOptions: {},
    });
    this.notify('initialized', {});
    this.notify('workspace/didChangeConfiguration', {
      settings: { yaml: { validate: true, completion: true, hover: true, schemaStore: { enable: false }, schemas: {} } },
    });
  }

  /** Opens (or re-sends) a file and waits for the diagnostics the server publishes for it. */
  async diagnose(file: string, text = readFileSync(file, 'utf8')): Promise<Diagnostic[]> {
    const uri = pathToFileURL(path.resolve(file)).href;
    const published = new Promise<Diagnostic[]>((resolve) => this.waiters.set(uri, [...(this.waiters.get(uri) ?? []), resolve]));
    this.open(uri, text);
    return published;
  }

  /** The completion labels the server offers at a position of an opened file. */
  async complete(file: string, line: number, character: number): Promise<CompletionItem[]> {
    const uri = pathToFileURL(path.resolve(file)).href;
    const result = (await this.request('textDocument/completion', { textDocument: { uri }, position: { line, character } })) as { items?: CompletionItem[] } | CompletionItem[] | null;
    if (!result) return [];
    return Array.isArray(result) ? result : (result.items ?? []);
  }

  /** The hover text (Markdown) at a position of an opened file. */
  async hover(file: string, line: number, character: number): Promise<string> {
    const uri = pathToFileURL(path.resolve(file)).href;
    const result = (await this.request('textDocument/hover', { textDocument: { uri }, position: { line, character } })) as { contents?: { value?: string } } | null;
    return result?.contents?.value ?? '';
  }

  async close(): Promise<void> {
    try {
      await this.request('shutdown', null);
      this.notify('exit', null);
    } finally {
      this.child.kill();
    }
  }

  private open(uri: string, text: string): void {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    if (version === 1) this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text } });
    else this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  private request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  private notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  private send(message: object): void {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString())?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      this.handle(JSON.parse(body) as Message);
    }
  }

  private handle(msg: Message): void {
    if (msg.id !== undefined && msg.method === undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
      return;
    }
    if (msg.id !== undefined && msg.method !== undefined) {
      // A request from the server (workspace/configuration, client/registerCapability ...): the
      // settings were pushed already, so an empty answer of the right shape is enough.
      const result = msg.method === 'workspace/configuration' ? ((msg.params as { items?: unknown[] }).items ?? []).map(() => null) : null;
      this.send({ jsonrpc: '2.0', id: msg.id, result });
      return;
    }
    if (msg.method === 'textDocument/publishDiagnostics') {
      const { uri, diagnostics } = msg.params as { uri: string; diagnostics: Diagnostic[] };
      this.diagnostics.set(uri, diagnostics);
      const waiting = this.waiters.get(uri);
      if (waiting?.length) waiting.shift()!(diagnostics);
    }
  }
}
