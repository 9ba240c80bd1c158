#!/usr/bin/env node
// driver.mjs drives an official TypeScript MCP SDK client against one MCP
// server, runs a named scenario, and prints a JSON transcript of what the
// client observed on stdout. mcpgw's tests run it against a server directly
// and against the same server behind `mcpgw serve`, and compare the two.
//
//   node driver.mjs --sdk v1|v2 --scenario NAME --version PROTOCOL_VERSION
//                   [--prefix everything__] [--tap FILE] [--timeout-ms N]
//                   (--url http://HOST:PORT/mcp | -- COMMAND [ARGS...])
//
// --sdk v1 is @modelcontextprotocol/sdk 1.x, v2 is @modelcontextprotocol/client
// 2.x, both from testdata/npm/node_modules ($MCPGW_NPM_MODULES overrides).
// --prefix is prepended to the names of tools and prompts the scenario calls
// (mcpgw exposes a server's "echo" as "everything__echo"). --tap names the
// log tap.mjs writes between mcpgw and the server: it becomes the transcript's
// serverSaw; without it serverSaw is what the client itself sent (a direct
// connection). Scenarios live in scenarios/NAME.mjs.
//
// The transcript (one JSON object):
//   meta        SDK, transport, requested and negotiated protocol version, era
//   sections    [{name, value}] in the order the scenario recorded them: what
//               the tests compare, one subtest per section
//   notApplicable  [{name, reason}]: sections a 2026-07-28 connection has no
//               counterpart for (server-initiated requests and notifications
//               outside a call, logging/setLevel, roots list_changed); their
//               values are in info
//   info        name -> value: recorded for the reader, not compared
//   raw         every JSON-RPC message in both directions, in order, as on the
//               wire ({dir: "out"|"in", msg}); inbound messages are parsed from
//               the bytes the transport received (stdout of the spawned
//               process, HTTP response bodies), so key order is the peer's
//   http        (HTTP) each request the transport made: method, JSON-RPC
//               methods in the body, status, content type
//   serverSaw   messages the server received ({dir, msg}; see --tap)
//   errors      errors the SDK reported through onerror
//
// The protocol version: SDK 1.x always offers its latest (2025-11-25) and has
// no option to offer another, so --sdk v1 accepts only that. SDK 2.x offers a
// chosen 2025 version with supportedProtocolVersions (the plain initialize
// handshake), and 2026-07-28 with versionNegotiation {mode: "auto"}: it probes
// with server/discover and falls back to initialize at 2025-11-25 when the
// server is a 2025 one.
import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.MCPGW_NPM_MODULES || join(here, '..', 'npm', 'node_modules');

const { values: opt, positionals } = parseArgs({
    allowPositionals: true,
    options: {
        sdk: { type: 'string', default: 'v1' },
        scenario: { type: 'string' },
        version: { type: 'string' },
        url: { type: 'string' },
        prefix: { type: 'string', default: '' },
        tap: { type: 'string' },
        'timeout-ms': { type: 'string', default: '25000' }
    }
});

const transcript = {
    meta: {
        sdk: opt.sdk,
        scenario: opt.scenario,
        transport: opt.url ? 'http' : 'stdio',
        requestedVersion: opt.version
    },
    sections: [],
    notApplicable: [],
    info: {},
    raw: [],
    http: [],
    serverSaw: [],
    errors: []
};

let printed = false;
function finish(code = 0) {
    if (printed) return;
    printed = true;
    transcript.serverSaw = readServerSaw();
    process.stdout.write(JSON.stringify(transcript, null, 1) + '\n', () => process.exit(code));
}

function readServerSaw() {
    if (!opt.tap) {
        return transcript.raw.filter(e => e.dir === 'out').map(e => ({ dir: 'to-server', msg: e.msg }));
    }
    if (!existsSync(opt.tap)) return [];
    return readFileSync(opt.tap, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(l => {
            try {
                return JSON.parse(l);
            } catch {
                return { unparsed: l };
            }
        });
}

export function errInfo(e) {
    if (e === undefined || e === null) return { message: String(e) };
    const out = { name: e.constructor?.name ?? typeof e, message: String(e.message ?? e) };
    if (e.code !== undefined) out.code = e.code;
    if (e.data !== undefined) out.data = e.data;
    return out;
}

// ---- SDK loading ----------------------------------------------------------

function pkgVersion(name) {
    return JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version;
}

async function loadSDK(kind) {
    const imp = rel => import(pathToFileURL(join(modules, rel)).href);
    if (kind === 'v1') {
        const base = '@modelcontextprotocol/sdk/dist/esm/';
        const [client, stdio, http, types] = await Promise.all([
            imp(base + 'client/index.js'),
            imp(base + 'client/stdio.js'),
            imp(base + 'client/streamableHttp.js'),
            imp(base + 'types.js')
        ]);
        return {
            kind,
            package: '@modelcontextprotocol/sdk',
            version: pkgVersion('@modelcontextprotocol/sdk'),
            Client: client.Client,
            Stdio: stdio.StdioClientTransport,
            Http: http.StreamableHTTPClientTransport,
            types,
            latest: types.LATEST_PROTOCOL_VERSION,
            supported: types.SUPPORTED_PROTOCOL_VERSIONS
        };
    }
    if (kind === 'v2') {
        const [client, stdio] = await Promise.all([
            imp('@modelcontextprotocol/client/dist/index.mjs'),
            imp('@modelcontextprotocol/client/dist/stdio.mjs')
        ]);
        return {
            kind,
            package: '@modelcontextprotocol/client',
            version: pkgVersion('@modelcontextprotocol/client'),
            Client: client.Client,
            Stdio: stdio.StdioClientTransport,
            Http: client.StreamableHTTPClientTransport,
            types: client,
            latest: client.LATEST_PROTOCOL_VERSION,
            supported: client.SUPPORTED_PROTOCOL_VERSIONS
        };
    }
    throw new Error(`unknown --sdk ${kind} (want v1 or v2)`);
}

// ---- recording ------------------------------------------------------------

const waiters = new Set();
function record(dir, msg) {
    transcript.raw.push({ dir, msg });
    for (const w of waiters) w();
}

// waitFor resolves true as soon as pred() holds, false after ms. pred is
// checked on every message in either direction, and every 100 ms for what
// only the tap log shows (the server's side of mcpgw).
export function waitFor(pred, ms) {
    if (pred()) return Promise.resolve(true);
    return new Promise(resolve => {
        const check = () => {
            if (pred()) done(true);
        };
        const timer = setTimeout(() => done(false), ms);
        const poll = setInterval(check, 100);
        function done(v) {
            clearTimeout(timer);
            clearInterval(poll);
            waiters.delete(check);
            resolve(v);
        }
        waiters.add(check);
    });
}

// settle waits ms: only where an absence is observed (nothing more arrives),
// which no message can signal.
export const settle = ms => new Promise(r => setTimeout(r, ms));

function parseSSE(text, emit) {
    // Events are separated by a blank line; data lines concatenate.
    for (const block of text.split(/\r?\n\r?\n/)) {
        const data = block
            .split(/\r?\n/)
            .filter(l => l.startsWith('data:'))
            .map(l => l.slice(5).replace(/^ /, ''))
            .join('\n');
        if (data.trim()) emit(data);
    }
}

function emitJSON(text) {
    let v;
    try {
        v = JSON.parse(text);
    } catch {
        transcript.errors.push({ message: 'unparsable message from the server', text });
        return;
    }
    for (const m of Array.isArray(v) ? v : [v]) record('in', m);
}

// tapFetch is the HTTP transport's fetch: it records each exchange and parses
// a copy of every response body into the raw log.
async function tapFetch(url, init) {
    const method = init?.method ?? 'GET';
    let rpc;
    if (typeof init?.body === 'string') {
        try {
            const b = JSON.parse(init.body);
            rpc = (Array.isArray(b) ? b : [b]).map(m => m.method ?? (m.result !== undefined ? 'result' : 'error'));
        } catch {}
    }
    const ex = { method, rpc };
    transcript.http.push(ex);
    let res;
    try {
        res = await fetch(url, init);
    } catch (e) {
        ex.error = String(e?.message ?? e);
        throw e;
    }
    ex.status = res.status;
    ex.contentType = res.headers.get('content-type') ?? undefined;
    if (res.body && res.ok) {
        const copy = res.clone();
        const sse = (ex.contentType ?? '').includes('text/event-stream');
        (async () => {
            const reader = copy.body.getReader();
            const dec = new TextDecoder();
            let buf = '';
            for (;;) {
                const { value, done } = await reader.read();
                if (done) break;
                buf += dec.decode(value, { stream: true });
                if (sse) {
                    const cut = buf.lastIndexOf('\n\n');
                    if (cut >= 0) {
                        parseSSE(buf.slice(0, cut), emitJSON);
                        buf = buf.slice(cut + 2);
                    }
                }
            }
            buf += dec.decode();
            if (sse) parseSSE(buf, emitJSON);
            else if (buf.trim()) emitJSON(buf);
        })().catch(() => {});
    }
    return res;
}

// wrapTransport logs every message the client sends, and every message it
// receives: from the spawned process's stdout when the transport has one (the
// bytes as sent), else as the transport delivers them.
function wrapTransport(inner) {
    let wire = !!opt.url; // HTTP: tapFetch sees the bodies
    let userOnMessage;
    const onmessage = (m, extra) => {
        if (!wire) record('in', m);
        userOnMessage?.(m, extra);
    };
    return new Proxy(inner, {
        get(t, p) {
            if (p === 'send') {
                return (m, o) => {
                    record('out', m);
                    return t.send(m, o);
                };
            }
            if (p === 'start') {
                return async () => {
                    await t.start();
                    const out = t._process?.stdout;
                    if (out && !wire) {
                        wire = true;
                        let buf = '';
                        out.on('data', chunk => {
                            buf += chunk.toString('utf8');
                            let nl;
                            while ((nl = buf.indexOf('\n')) >= 0) {
                                const line = buf.slice(0, nl).replace(/\r$/, '');
                                buf = buf.slice(nl + 1);
                                if (line.trim()) emitJSON(line);
                            }
                        });
                    }
                };
            }
            if (p === 'onmessage') return userOnMessage;
            const v = Reflect.get(t, p, t);
            return typeof v === 'function' && p !== 'constructor' ? v.bind(t) : v;
        },
        set(t, p, v) {
            if (p === 'onmessage') {
                userOnMessage = v;
                t.onmessage = v ? onmessage : v;
                return true;
            }
            return Reflect.set(t, p, v, t);
        }
    });
}

// stripEnvelope removes, from a section value recorded on a 2026-07-28
// connection, what that version adds to every result: resultType, the cache
// hints ttlMs and cacheScope, and the serverInfo _meta key (an empty _meta
// left behind goes too). Strings holding JSON text are stripped in place,
// keeping their key order. The raw log keeps everything.
const ENVELOPE_KEYS = ['resultType', 'ttlMs', 'cacheScope'];
const SERVER_INFO_META = 'io.modelcontextprotocol/serverInfo';
function stripEnvelope(v) {
    if (typeof v === 'string') {
        const t = v.trim();
        if (t.startsWith('{') || t.startsWith('[')) {
            try {
                return JSON.stringify(stripEnvelope(JSON.parse(t)));
            } catch {}
        }
        return v;
    }
    if (Array.isArray(v)) return v.map(stripEnvelope);
    if (v && typeof v === 'object') {
        const out = {};
        for (const [k, e] of Object.entries(v)) {
            if (ENVELOPE_KEYS.includes(k)) continue;
            if (k === '_meta' && e && typeof e === 'object' && SERVER_INFO_META in e) {
                const { [SERVER_INFO_META]: _, ...rest } = e;
                if (Object.keys(rest).length > 0) out[k] = stripEnvelope(rest);
                continue;
            }
            out[k] = stripEnvelope(e);
        }
        return out;
    }
    return v;
}

// ---- the client -----------------------------------------------------------

// The client declares roots (with listChanged), sampling and elicitation in
// every scenario: what the server offers depends on them (server-everything
// registers get-roots-list, trigger-elicitation-request and
// trigger-sampling-request only for clients that declare them).
const capabilities = { roots: { listChanged: true }, sampling: {}, elicitation: {} };

async function main() {
    if (!opt.scenario) throw new Error('--scenario is required');
    const scenarioFile = join(here, 'scenarios', `${opt.scenario}.mjs`);
    if (!existsSync(scenarioFile)) throw new Error(`no scenario ${opt.scenario} (${scenarioFile})`);
    const scenario = (await import(pathToFileURL(scenarioFile).href)).default;

    const sdk = await loadSDK(opt.sdk);
    transcript.meta.sdkPackage = `${sdk.package}@${sdk.version}`;
    transcript.meta.sdkLatest = sdk.latest;
    transcript.meta.sdkSupported = sdk.supported;
    const version = opt.version ?? sdk.latest;

    const clientOptions = { capabilities };
    if (sdk.kind === 'v1') {
        if (version !== sdk.latest) {
            throw new Error(`${sdk.package} ${sdk.version} always offers ${sdk.latest}; it cannot be asked for ${version}`);
        }
    } else if (version >= '2026-07-28') {
        clientOptions.supportedProtocolVersions = [version, sdk.latest];
        clientOptions.versionNegotiation = { mode: 'auto' };
    } else {
        clientOptions.supportedProtocolVersions = [version];
    }
    const client = new sdk.Client({ name: 'mcpgw-tsclient', version: '1.0.0' }, clientOptions);
    client.onerror = e => transcript.errors.push(errInfo(e));

    const state = {
        roots: [{ uri: 'file:///tsclient/root-1', name: 'root-1' }],
        rootsRequests: 0,
        rootsAnswered: 0,
        elicitations: [],
        samplings: []
    };
    const v1schema = {
        'roots/list': 'ListRootsRequestSchema',
        'elicitation/create': 'ElicitRequestSchema',
        'sampling/createMessage': 'CreateMessageRequestSchema'
    };
    const onRequest = (method, fn) => {
        if (sdk.kind === 'v1') client.setRequestHandler(sdk.types[v1schema[method]], fn);
        else client.setRequestHandler(method, fn);
    };
    onRequest('roots/list', async () => {
        state.rootsRequests++;
        // Answered once this returns; counted on the next tick, when the
        // SDK has sent it.
        setImmediate(() => state.rootsAnswered++);
        return { roots: state.roots };
    });
    onRequest('elicitation/create', async req => {
        state.elicitations.push(req.params);
        return { action: 'decline' };
    });
    onRequest('sampling/createMessage', async req => {
        state.samplings.push(req.params);
        return { role: 'assistant', model: 'tsclient-model', content: { type: 'text', text: 'sampled by tsclient' } };
    });

    let transport;
    if (opt.url) {
        transport = new sdk.Http(new URL(opt.url), { fetch: tapFetch });
    } else {
        if (positionals.length === 0) throw new Error('give --url or -- COMMAND [ARGS...]');
        transport = new sdk.Stdio({
            command: positionals[0],
            args: positionals.slice(1),
            env: { ...process.env },
            stderr: 'inherit'
        });
    }
    const wrapped = wrapTransport(transport);

    const t0 = Date.now();
    const timing = (transcript.meta.timingMs = {});
    try {
        await client.connect(wrapped);
        timing.connect = Date.now() - t0;
    } catch (e) {
        transcript.meta.connectError = errInfo(e);
        return;
    }
    const initResult = transcript.raw.find(
        e => e.dir === 'in' && e.msg.result?.protocolVersion !== undefined && e.msg.result?.serverInfo !== undefined
    )?.msg.result;
    transcript.meta.negotiatedVersion =
        (sdk.kind === 'v2' ? client.getNegotiatedProtocolVersion?.() : undefined) ?? initResult?.protocolVersion;
    transcript.meta.era = sdk.kind === 'v2' ? client.getProtocolEra?.() : 'legacy';
    transcript.meta.serverInfo = client.getServerVersion?.();

    const ctx = {
        sdk,
        client,
        transport: wrapped,
        state,
        version,
        negotiatedVersion: transcript.meta.negotiatedVersion,
        era: transcript.meta.era,
        prefix: opt.prefix,
        N: name => opt.prefix + name,
        // section records a compared value. A section whose behaviour
        // 2026-07-28 does not have (opts.legacyOnly says why) is, on a
        // 2026-07-28 connection, listed in notApplicable and kept in info.
        section(name, value, opts) {
            if (value === undefined) value = null;
            if (transcript.meta.era === 'modern') {
                if (opts?.legacyOnly) {
                    transcript.notApplicable.push({ name, reason: opts.legacyOnly });
                    transcript.info[name] = value;
                    return;
                }
                value = stripEnvelope(value);
            }
            transcript.sections.push({ name, value });
        },
        info(name, value) {
            transcript.info[name] = value === undefined ? null : value;
        },
        async step(fn) {
            try {
                return { result: await fn() };
            } catch (e) {
                return { error: errInfo(e) };
            }
        },
        callTool(params, options) {
            return sdk.kind === 'v1' ? client.callTool(params, undefined, options) : client.callTool(params, options);
        },
        raw: transcript.raw,
        inbound: pred => transcript.raw.filter(e => e.dir === 'in' && pred(e.msg)).map(e => e.msg),
        inboundEntries: pred => transcript.raw.filter(e => e.dir === 'in' && pred(e.msg)).map(e => ({ msg: e.msg })),
        tapped: !!opt.tap,
        outbound: pred => transcript.raw.filter(e => e.dir === 'out' && pred(e.msg)).map(e => e.msg),
        serverSaw: () => readServerSaw(),
        // serverRootsAsks are the roots/list requests the server made
        // (from the tap; directly, the ones the client received).
        serverRootsAsks() {
            if (!opt.tap) return ctx.inbound(m => m.method === 'roots/list');
            return readServerSaw()
                .filter(e => e.dir === 'from-server' && e.msg?.method === 'roots/list')
                .map(e => e.msg);
        },
        // initSettled calls echo (mcpgw may start a server only when a
        // request needs it: for a 2026-07-28 client there is no initialize),
        // then waits (10 s at most) for server-everything's own roots/list
        // request, which it makes 350 ms after its initialization, to be
        // asked and answered (or refused), so that it cannot land in the
        // middle of what the scenario does next.
        async initSettled() {
            ctx.info('initSettled.echo', await ctx.step(() => ctx.callTool({ name: ctx.N('echo'), arguments: { message: 'settle' } })));
            const key = e => JSON.stringify([e.pid, e.msg?.id]);
            const answered = () => {
                if (!opt.tap) return state.rootsAnswered >= 1;
                const saw = readServerSaw();
                const asks = new Set(saw.filter(e => e.dir === 'from-server' && e.msg?.method === 'roots/list').map(key));
                return saw.some(e => e.dir === 'to-server' && e.msg?.method === undefined && asks.has(key(e)));
            };
            const ok = await waitFor(answered, 10000);
            ctx.info('initSettled', ok);
            return ok;
        },
        waitFor,
        settle,
        errInfo
    };
    try {
        await scenario(ctx);
    } catch (e) {
        transcript.meta.scenarioError = errInfo(e);
        transcript.meta.scenarioErrorStack = String(e?.stack ?? '');
    }
    timing.scenario = Date.now() - t0 - timing.connect;
    const t1 = Date.now();
    // server-everything does not exit when its stdin closes, so the SDK's
    // close would wait 2 s before its SIGTERM: give it 300 ms.
    const child = transport._process;
    if (child && child.exitCode === null) {
        const gone = new Promise(r => child.once('close', r));
        try {
            child.stdin?.end();
        } catch {}
        await Promise.race([gone, settle(300)]);
        if (child.exitCode === null) child.kill('SIGTERM');
    }
    try {
        await client.close();
    } catch {}
    timing.close = Date.now() - t1;
}

const deadline = setTimeout(() => {
    transcript.meta.timedOut = true;
    finish(0);
}, Number(opt['timeout-ms']));
deadline.unref();

main().then(
    () => finish(0),
    e => {
        transcript.meta.driverError = errInfo(e);
        finish(1);
    }
);
