// cancel: start trigger-long-running-operation (2 s, 4 steps, progress every
// 0.5 s) with a progress token, and abort it through an AbortSignal with a
// reason as soon as the first progress notification arrives. Recorded: how
// the call ended for the caller, every response for the cancelled request id
// that still reached the client (there should be none: the spec says the
// server does not answer a cancelled request), the cancellation as the server
// received it (reason), and that the session still works afterwards.
export const REASON = 'tsclient: the user pressed stop';

export default async function cancel(ctx) {
    const { N } = ctx;
    // server-everything asks for the roots 350 ms after initialization: let
    // that be over before the call (for a 2026-07-28 client mcpgw would
    // otherwise turn it into an input request of this call).
    await ctx.initSettled();
    const ac = new AbortController();
    let progress = 0;
    const call = ctx.step(() =>
        ctx.callTool(
            { name: N('trigger-long-running-operation'), arguments: { duration: 2, steps: 4 } },
            { signal: ac.signal, onprogress: () => progress++ }
        )
    );
    const started = await ctx.waitFor(() => progress > 0, 10000);
    ctx.section('cancel.progress-before-abort', started);
    ac.abort(REASON);
    const outcome = await call;
    ctx.section('cancel.call-outcome', outcome);

    const sent = ctx.outbound(m => m.method === 'tools/call' && m.params?.name === N('trigger-long-running-operation'))[0];
    const id = sent?.id;
    // The server would have finished by 2 s after the call started; wait
    // that out so a late response would be seen too. Nothing signals that
    // none is coming.
    await ctx.settle(2000);
    ctx.section('cancel.client-sent', ctx.outbound(m => m.method === 'notifications/cancelled').map(m => m.params?.reason ?? null));
    ctx.section(
        'cancel.responses-for-cancelled-id',
        ctx.inbound(m => m.method === undefined && m.id !== undefined && m.id === id).map(m => (m.error ? { error: m.error } : { result: m.result }))
    );
    const saw = ctx.serverSaw().filter(e => e.dir === 'to-server').map(e => e.msg);
    ctx.section(
        'cancel.server-saw',
        saw.filter(m => m.method === 'notifications/cancelled').map(m => ({ reason: m.params?.reason ?? null }))
    );
    ctx.section('cancel.echo-after', await ctx.step(() => ctx.callTool({ name: N('echo'), arguments: { message: 'still there?' } })));
    ctx.info('cancel.progress-notifications', ctx.inbound(m => m.method === 'notifications/progress').map(m => m.params));
}
