// roots: the client declares roots (listChanged) with one root. After
// connecting it waits for the server to ask for them (server-everything asks
// 350 ms after its initialization), then changes its roots and sends
// notifications/roots/list_changed once (a 2026-07-28 connection has no such
// notification: the SDK refuses to send it, and the server is not asked).
// Every roots/list request the server makes of the client is counted (for a
// 2026-07-28 client they come as input requests of a call: get-roots-list
// asks when the server has no roots yet); get-roots-list shows which roots the
// server ended up with; serverSaw shows how many list_changed notifications
// reached the server and how its roots/list requests were answered.
const NO_UNSOLICITED = '2026-07-28 has no server-initiated requests outside a call';
const NO_LIST_CHANGED = '2026-07-28 has no notifications/roots/list_changed';

export default async function roots(ctx) {
    const { client, state, N } = ctx;

    // The server asks on its own after initialization: wait until it has
    // its answer, then give a relayed request a moment to reach the client.
    await ctx.initSettled();
    if (state.rootsRequests === 0) await ctx.waitFor(() => state.rootsRequests >= 1, 1000);
    ctx.section('roots.asked-after-initialize', state.rootsRequests >= 1, { legacyOnly: NO_UNSOLICITED });
    ctx.section('roots.get-roots-list.initial', await ctx.step(() => ctx.callTool({ name: N('get-roots-list'), arguments: {} })));
    const before = state.rootsRequests;
    const serverAsksBefore = ctx.serverRootsAsks().length;

    state.roots = [{ uri: 'file:///tsclient/root-2', name: 'root-2' }];
    const sent = await ctx.step(() => client.sendRootsListChanged());
    ctx.section('roots.list_changed-sent', sent, { legacyOnly: NO_LIST_CHANGED });
    if (!sent.error) {
        // The server asks again: the client sees it, or (through mcpgw) the tap.
        await ctx.waitFor(() => state.rootsRequests > before || ctx.serverRootsAsks().length > serverAsksBefore, 10000);
        if (state.rootsRequests === before) await ctx.waitFor(() => state.rootsRequests > before, 1000);
    }
    ctx.section('roots.asked-after-list-changed', state.rootsRequests > before, { legacyOnly: NO_LIST_CHANGED });
    // A duplicated list_changed would make the server ask a second time:
    // give it the time to, as nothing signals that it will not.
    await ctx.settle(1000);
    ctx.section('roots.requests-after-list-changed', state.rootsRequests - before, { legacyOnly: NO_LIST_CHANGED });
    ctx.section(
        'roots.get-roots-list.after-change',
        await ctx.step(() => ctx.callTool({ name: N('get-roots-list'), arguments: {} })),
        { legacyOnly: NO_LIST_CHANGED }
    );
    ctx.section('roots.requests-total', state.rootsRequests, { legacyOnly: NO_UNSOLICITED });

    const saw = ctx.serverSaw();
    ctx.section(
        'roots.server-saw.list_changed',
        saw.filter(e => e.dir === 'to-server' && e.msg?.method === 'notifications/roots/list_changed').length,
        { legacyOnly: NO_LIST_CHANGED }
    );
    // The server's own roots/list requests (per server process: the tap
    // log may hold several) were answered with these, in order.
    const key = e => JSON.stringify([e.pid ?? null, e.msg?.id]);
    const asked = new Set(
        (ctx.tapped
            ? saw.filter(e => e.dir === 'from-server' && e.msg?.method === 'roots/list')
            : ctx.inboundEntries(m => m.method === 'roots/list')
        ).map(key)
    );
    ctx.section(
        'roots.server-saw.answers',
        saw
            .filter(e => e.dir === 'to-server' && e.msg?.method === undefined && asked.has(key(e)))
            .map(e => (e.msg.error ? { error: e.msg.error } : e.msg.result?.roots ?? e.msg.result)),
        { legacyOnly: NO_UNSOLICITED }
    );
    ctx.info('roots.server-log', ctx.inbound(m => m.method === 'notifications/message').map(m => m.params));
}
