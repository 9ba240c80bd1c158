// logging: server-everything's toggle-simulated-logging sends one log message
// at once (at a random level), then one every 5 s. The client switches it on
// and off twice: first without ever calling logging/setLevel (the spec lets a
// server log before any setLevel; the SDK server does), then after
// logging/setLevel debug (every level passes; on a 2026-07-28 connection,
// where a log level travels with each request, the calls of that phase also
// carry the io.modelcontextprotocol/logLevel _meta key). Before all that it
// lets the server's own "Roots updated" message (sent once its roots/list
// request at initialization is answered) arrive, so that it cannot land in a
// phase.
const isSimulated = p => typeof p?.data === 'string' && /(-level message|level-message)/.test(p.data);

export default async function logging(ctx) {
    const { client, N } = ctx;
    const logs = () => ctx.inbound(m => m.method === 'notifications/message').map(m => m.params);

    if (await ctx.initSettled()) {
        await ctx.waitFor(() => logs().length >= 1, 3000);
    }
    ctx.section('logging.at-initialize', logs(), { legacyOnly: '2026-07-28 has no notifications outside a call' });

    const phase = async meta => {
        const n = logs().filter(isSimulated).length;
        const call = () => ctx.callTool({ name: N('toggle-simulated-logging'), arguments: {}, ...(meta ? { _meta: meta } : {}) });
        const on = await ctx.step(call);
        // The first message is sent before the tool answers; over HTTP it
        // travels on another stream, so allow it a moment.
        await ctx.waitFor(() => logs().filter(isSimulated).length > n, 3000);
        const off = await ctx.step(call);
        return { on, off, messages: logs().filter(isSimulated).slice(n) };
    };

    const before = await phase();
    ctx.section('logging.before-setLevel', before.messages, {
        legacyOnly: '2026-07-28: without io.modelcontextprotocol/logLevel the server must not log for the request'
    });
    ctx.info('logging.before-setLevel.toggles', [before.on, before.off]);

    ctx.section('logging.setLevel', await ctx.step(() => client.setLoggingLevel('debug')), {
        legacyOnly: '2026-07-28 has no logging/setLevel (the level travels with each request)'
    });
    const key = ctx.sdk.types.LOG_LEVEL_META_KEY ?? 'io.modelcontextprotocol/logLevel';
    const after = await phase(ctx.era === 'modern' ? { [key]: 'debug' } : undefined);
    ctx.section('logging.after-setLevel', after.messages);
    ctx.info('logging.after-setLevel.toggles', [after.on, after.off]);
}
