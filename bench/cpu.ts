/**
 * Where the CPU goes during a measured window: this Node process (process.cpuUsage) and the
 * PostgreSQL backends serving its pool (utime + stime from /proc, so only when the server
 * runs on this machine and is readable; otherwise the database share is unknown).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

export interface CpuUsage {
  nodeMs: number;
  databaseMs: number | undefined;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

function procCpuMs(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** Starts counting now; call the result to read the CPU spent since. */
export async function startCpuMeter(databaseUrl: string, applicationName = 'iam-service'): Promise<() => CpuUsage> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'iam-bench-meter' });
  await client.connect();
  let pids: number[];
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [applicationName],
    );
    pids = rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
  const database = () => {
    const each = pids.map(procCpuMs);
    return pids.length > 0 && each.every((ms) => ms !== undefined) ? each.reduce((sum, ms) => sum! + ms!, 0)! : undefined;
  };
  const node0 = process.cpuUsage();
  const database0 = database();
  return () => {
    const node = process.cpuUsage(node0);
    const database1 = database();
    return {
      nodeMs: (node.user + node.system) / 1000,
      databaseMs: database0 === undefined || database1 === undefined ? undefined : database1 - database0,
    };
  };
}
