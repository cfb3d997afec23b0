/**
 * A sink built outside any experiment, for commands that talk to a tracker directly
 * (`ablate sync --to <type>`, `ablate report` on a remote target): its options are checked against
 * the plugin's schema (command-line strings coerced to the types it declares), defaults filled
 * in, and it is built like any component.
 */
import { AblateError } from '../errors.js';
import { ExperimentContainer } from '../plugin/container.js';
import type { Logger } from '../plugin/define.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { NamedSink } from './open.js';

export async function buildSink(registry: PluginRegistry, type: string, options: Record<string, unknown>, log: Logger, baseDir = process.cwd()): Promise<NamedSink> {
  const plugin = registry.get('tracker', type, { key: '--to' });
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const validate = new Ajv2020({ useDefaults: true, coerceTypes: true, allErrors: true, strict: false }).compile(plugin.options);
  const opts = { ...options };
  if (!validate(opts)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath.replace(/^\//, '') || (e.params as { additionalProperty?: string }).additionalProperty || type}: ${e.message ?? 'invalid'}`);
    throw new AblateError('tracking.sink-options', `options of the '${type}' tracker are not valid: ${problems.join('; ')}`, {
      hint: `its options: ${Object.keys((plugin.options.properties as object | undefined) ?? {}).join(', ') || '(none)'}`,
    });
  }
  const container = new ExperimentContainer({ registry, config: { trackers: [{ ...opts, type }] }, baseDir, log });
  return { name: type, sink: await container.get('trackers.0', 'tracker') };
}
