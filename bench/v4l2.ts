import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs bench/v4l2-vm.ts inside the vivid VM and prints its table (skipped without the VM's packages). */
export async function benchV4l2(): Promise<void> {
  if (!existsSync('/usr/bin/qemu-system-x86_64')) {
    console.log(
      '\n### V4L2 capture: skipped (no QEMU; apt-get install qemu-system-x86 linux-image-amd64 busybox-static v4l-utils)',
    );
    return;
  }
  const child = spawn(
    'bash',
    ['test/vm/vivid-vm.sh', '--timeout', '600', '--', 'node', 'dist/bench/v4l2-vm.js'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.on('exit', resolve));
  // Only the table: the VM's console adds boot lines.
  const table = out
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.startsWith('|') || l.startsWith('###'));
  console.log(`\n${table.join('\n')}`);
}
