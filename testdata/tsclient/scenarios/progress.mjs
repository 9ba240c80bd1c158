// progress: a long call with progress notifications (trigger-long-running-
// operation, 3 s in 6 steps) during which the server needs something from
// the client. It starts right after connecting; in the 2025 era the client
// also changes its roots and sends notifications/roots/list_changed once the
// first progress arrives, so that server-everything asks for the roots while
// the call runs (a roots/list request to the client beside the call). A
// 2026-07-28 client has no list_changed and no server-initiated requests:
// through mcpgw, which starts server-everything for the call, the server's
// own roots/list (350 ms after its initialization) comes to the client as an
// input_required result of the call; the client fulfils it and retries the
// call with a new request id and a new progress token. Either way every
// progress notification should name the token of the request in flight, and
// arrive before its result.
export default async function progress(ctx) {
    const { client, state, N } = ctx;
    const before = state.rootsRequests;
    const seen = [];
    const call = ctx.step(() =>
        ctx.callTool(
            { name: N('trigger-long-running-operation'), arguments: { duration: 3, steps: 6 } },
            { onprogress: p => seen.push({ progress: p.progress, total: p.total }), resetTimeoutOnProgress: true, timeout: 15000 }
        )
    );
    if (ctx.era !== 'modern') {
        await ctx.waitFor(() => seen.length > 0, 10000);
        state.roots = [{ uri: 'file:///tsclient/root-progress', name: 'root-progress' }];
        ctx.info('progress.list_changed', await ctx.step(() => client.sendRootsListChanged()));
    }
    const outcome = await call;
    ctx.section('progress.call-outcome', outcome);
    // Whether the server's roots/list lands in the call depends on when
    // mcpgw started the server (the HTTP front starts it with itself): kept
    // for the reader, not compared.
    ctx.info('progress.client-asked-for-roots', state.rootsRequests > before);
    // Notifications travel apart from the result: let the last one land.
    await ctx.waitFor(() => ctx.inbound(m => m.method === 'notifications/progress').length >= 6, 1000);
    // Each progress notification on the wire, labelled against the legs of
    // the call the client had sent before it (a 2026-07-28 client retries
    // after input_required with a new id and progress token): "current" if
    // it names the token of the latest leg, still unanswered; "after-result"
    // if that leg was already answered (the SDK has forgotten the token);
    // "earlier-leg" if it names an earlier leg's token; "unknown" else.
    const legs = [];
    const answered = new Set();
    const labels = [];
    for (const { dir, msg } of ctx.raw) {
        if (dir === 'out' && msg.method === 'tools/call' && msg.params?.name === N('trigger-long-running-operation')) {
            legs.push({ id: msg.id, token: msg.params?._meta?.progressToken });
        } else if (dir === 'in' && msg.method === undefined && msg.id !== undefined) {
            answered.add(JSON.stringify(msg.id));
        } else if (dir === 'in' && msg.method === 'notifications/progress') {
            const i = legs.findIndex(l => l.token === msg.params?.progressToken);
            const last = legs.length - 1;
            let label = 'unknown';
            if (i >= 0 && i < last) label = 'earlier-leg';
            else if (i === last) label = answered.has(JSON.stringify(legs[i].id)) ? 'after-result' : 'current';
            labels.push({ progress: msg.params?.progress, total: msg.params?.total, token: label });
        }
    }
    ctx.section('progress.wire', labels);
    // What reached onprogress depends on the SDK too: the 1.x client drops
    // a progress notification that shares a read with the result.
    ctx.info('progress.delivered', seen);
    ctx.info('progress.legs', legs);
}
