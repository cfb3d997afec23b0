/**
 * A report's files in one folder: `report.md`, `.svg`, `.json`, `.csv`, `.tex` and, unless asked
 * not to, `report.png`. `ablate report` and the end of a sweep (its parent run's artifacts) write
 * them the same way.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { toCsv, toLatex, toMarkdown, type MarkdownOptions } from './format.js';
import { toPng, toSvg } from './plot.js';
import type { ReportTable } from './table.js';

export interface WrittenReport {
  markdown: string;
  json: string;
  csv: string;
  latex: string;
  files: string[];
}

export async function writeReport(table: ReportTable, format: MarkdownOptions & { title: string; fractions: boolean | 'auto' }, outDir: string, opts: { png?: boolean } = {}): Promise<WrittenReport> {
  const markdown = toMarkdown(table, format);
  const json = `${JSON.stringify({ title: format.title, ...table }, null, 2)}\n`;
  const csv = toCsv(table);
  const latex = toLatex(table, format);
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const file = path.join(outDir, name);
    writeFileSync(file, text);
    files.push(file);
  };
  write('report.md', markdown);
  const svg = toSvg(table, format.title, format.fractions);
  write('report.svg', svg);
  write('report.json', json);
  write('report.csv', csv);
  write('report.tex', latex);
  if (opts.png !== false) {
    files.push(path.join(outDir, 'report.png'));
    await toPng(svg, files[files.length - 1]!);
  }
  return { markdown, json, csv, latex, files };
}
