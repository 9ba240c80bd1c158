#!/usr/bin/env node
// tap.mjs LOGFILE -- COMMAND [ARGS...]
//
// A transparent stdio pass-through for an MCP server: it runs COMMAND with
// the caller's stdin/stdout piped through unchanged, and appends every
// newline-delimited JSON-RPC message in either direction to LOGFILE as one
// JSON line {"pid", "t" (ms since the epoch), "dir", "msg"} ("to-server":
// what the server was sent, "from-server": what it answered). The tests put it between mcpgw and a
// server to see exactly what the server received (cancellation reasons,
// roots notifications, the protocol version it was initialized at), and
// between a client and a directly spawned server for symmetry.
//
// When its stdin closes it closes the server's, and ends the server 300 ms
// later if it has not exited (server-everything does not exit at the end of
// its input), so that shutting down does not wait on it.
//
// Several processes may append to one LOGFILE (each line is one write);
// "pid" tells them apart.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep !== 1 || argv.length < 3) {
    process.stderr.write('usage: tap.mjs LOGFILE -- COMMAND [ARGS...]\n');
    process.exit(2);
}
const logFile = argv[0];
const [command, ...args] = argv.slice(2);

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });

function logger(dir) {
    let buf = '';
    return chunk => {
        buf += chunk.toString('utf8');
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).replace(/\r$/, '');
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            let msg;
            try {
                msg = JSON.parse(line);
            } catch {
                msg = { unparsed: line };
            }
            try {
                appendFileSync(logFile, JSON.stringify({ pid: process.pid, t: Date.now(), dir, msg }) + '\n');
            } catch {
                // The log is best effort; the relay must go on.
            }
        }
    };
}

const toServer = logger('to-server');
const fromServer = logger('from-server');
process.stdin.on('data', chunk => {
    toServer(chunk);
    child.stdin.write(chunk);
});
// When its input ends, so does the server's; server-everything ignores that,
// so it is ended 300 ms later: shutting mcpgw down need not wait on it.
process.stdin.on('end', () => {
    child.stdin.end();
    setTimeout(() => child.kill('SIGTERM'), 300).unref();
});
child.stdin.on('error', () => {});
child.stdout.on('data', chunk => {
    fromServer(chunk);
    process.stdout.write(chunk);
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => child.kill(sig));
}
child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
    // Let stdout drain, then go.
    process.stdout.end(() => process.exit());
});
child.on('error', err => {
    process.stderr.write(`tap: ${command}: ${err.message}\n`);
    process.exit(127);
});
