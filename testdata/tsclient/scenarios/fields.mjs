// fields: the exact JSON the client received, as text in the peer's key
// order, for results a relay might reshape: resources/read, prompts/list
// (argument "required" flags), completion/complete (hasMore), the
// elicitation/create request the server made (its "mode"), and the order of
// tools, prompts, resource templates, tool keys and schema properties.
// Sections holding text compare byte for byte.
export default async function fields(ctx) {
    const { client, N } = ctx;
    // Let the server finish initializing (server-everything registers some
    // tools on notifications/initialized and asks for roots 350 ms later;
    // through mcpgw the lists follow its list_changed).
    await ctx.initSettled();
    const lastOut = method => {
        const out = ctx.outbound(m => m.method === method);
        return out[out.length - 1];
    };
    const answerTo = req => (req ? ctx.inbound(m => m.method === undefined && m.id === req.id)[0] : undefined);
    const rawResult = async (method, fn) => {
        const r = await ctx.step(fn);
        const answer = answerTo(lastOut(method));
        if (!answer) return { noAnswer: r.error ?? true };
        return answer.error ? { error: answer.error } : JSON.stringify(answer.result);
    };

    ctx.section('fields.resources/read', await rawResult('resources/read', () => client.readResource({ uri: 'demo://resource/dynamic/text/1' })));
    ctx.section('fields.prompts/list', await rawResult('prompts/list', () => client.listPrompts()));
    ctx.section(
        'fields.completion/complete',
        await rawResult('completion/complete', () =>
            client.complete({ ref: { type: 'ref/prompt', name: N('completable-prompt') }, argument: { name: 'department', value: 'S' } })
        )
    );

    // The elicitation request as it arrived: a server->client request in
    // the 2025 era, an input request inside an input_required result in
    // 2026-07-28.
    const el = await ctx.step(() => ctx.callTool({ name: N('trigger-elicitation-request'), arguments: {} }));
    ctx.info('fields.elicitation-call', el);
    const asked = [];
    for (const m of ctx.inbound(() => true)) {
        if (m.method === 'elicitation/create') asked.push(m.params);
        const reqs = m.result?.inputRequests;
        if (reqs && typeof reqs === 'object') {
            for (const r of Object.values(reqs)) if (r?.method === 'elicitation/create') asked.push(r.params);
        }
    }
    ctx.section('fields.elicitation/create', asked.map(p => JSON.stringify(p)));
    ctx.section(
        'fields.elicitation/create.mode',
        asked.map(p => (p && 'mode' in p ? p.mode : '(absent)'))
    );

    const tl = await rawResult('tools/list', () => client.listTools());
    const tools = typeof tl === 'string' ? JSON.parse(tl).tools : [];
    ctx.section('fields.tools/list.order', tools.map(t => t.name));
    ctx.section('fields.tools/list.tool-keys', Object.fromEntries(tools.map(t => [t.name, Object.keys(t).join(',')])));
    ctx.section(
        'fields.tools/list.schema-property-order',
        Object.fromEntries(tools.map(t => [t.name, Object.keys(t.inputSchema?.properties ?? {}).join(',')]))
    );
    ctx.section(
        'fields.tools/list.schema-keys',
        Object.fromEntries(tools.map(t => [t.name, Object.keys(t.inputSchema ?? {}).join(',')]))
    );
    const pl = ctx.inbound(m => m.method === undefined && m.id === lastOut('prompts/list')?.id)[0];
    ctx.section('fields.prompts/list.order', (pl?.result?.prompts ?? []).map(p => p.name));
    const tpl = await rawResult('resources/templates/list', () => client.listResourceTemplates());
    ctx.section('fields.resources/templates/list.order', typeof tpl === 'string' ? JSON.parse(tpl).resourceTemplates.map(t => t.name) : tpl);
}
