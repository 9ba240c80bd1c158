// unknown-tool: call a tool no server has. The spec (2025-11-25) reports an
// unknown tool as a JSON-RPC error (-32602); server-everything's SDK answers
// with an isError result. Either way the client should see what the server
// said.
export default async function unknownTool(ctx) {
    const outcome = await ctx.step(() => ctx.callTool({ name: ctx.N('no-such-tool'), arguments: {} }));
    ctx.section('unknown-tool.outcome', outcome);
    const call = ctx.outbound(m => m.method === 'tools/call')[0];
    const answer = call ? ctx.inbound(m => m.id === call.id && m.method === undefined)[0] : undefined;
    ctx.section('unknown-tool.wire', answer ? (answer.error ? { error: answer.error } : { result: answer.result }) : null);
}
