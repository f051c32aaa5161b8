import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A private JetStream `nats-server` (binary on PATH) on `port`, storing in `storeDir`: a fault
 * test can SIGKILL it and start it again on the same port and store, and the file store keeps
 * what was acknowledged. Resolves once the server logs that it is ready.
 */
export function startNatsServer(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-js', '-p', String(port), '-a', '127.0.0.1', '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (b: Buffer) => {
      log += b;
      if (log.includes('Server is ready')) {
        child.stderr!.off('data', onData);
        // Keep draining the log so the server never blocks on a full pipe.
        child.stderr!.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`nats-server exited ${code}: ${log}`));
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', reject);
  });
}

/** Sends `signal` and resolves once the process has exited. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
