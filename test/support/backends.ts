/** Whether the native tensorflow backend loads on this machine (tests that need it skip otherwise). */
import { selectBackend } from '../../src/runtime/index.js';
import { quietLine } from './log.js';

export async function tensorflowLoads(): Promise<boolean> {
  try {
    await selectBackend({ backend: 'tensorflow', log: quietLine });
    return true;
  } catch {
    return false;
  }
}
