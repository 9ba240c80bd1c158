// basic: what the client learns at initialize, and one of each request a
// client makes of server-everything's tools, prompts, resources and
// completions, as the SDK returns them.
export default async function basic(ctx) {
    const { client, N } = ctx;
    // Let the server finish initializing (server-everything registers some
    // tools on notifications/initialized and asks for roots 350 ms later;
    // through mcpgw the lists follow its list_changed).
    await ctx.initSettled();
    ctx.section('initialize.protocolVersion', ctx.negotiatedVersion ?? null);
    ctx.section('initialize.capabilities', client.getServerCapabilities() ?? null);
    ctx.section('initialize.instructions', client.getInstructions() ?? null);

    const tools = await ctx.step(() => client.listTools());
    ctx.section('tools/list.names', tools.result ? tools.result.tools.map(t => t.name) : tools);
    ctx.section('tools/list.tools', tools.result ? tools.result.tools : tools);

    ctx.section(
        'tools/call.echo',
        await ctx.step(() => ctx.callTool({ name: N('echo'), arguments: { message: 'hello from the TypeScript client' } }))
    );
    ctx.section('tools/call.get-sum', await ctx.step(() => ctx.callTool({ name: N('get-sum'), arguments: { a: 2, b: 3 } })));
    ctx.section(
        'tools/call.get-resource-links',
        await ctx.step(() => ctx.callTool({ name: N('get-resource-links'), arguments: { count: 2 } }))
    );

    ctx.section('prompts/list', await ctx.step(() => client.listPrompts()));
    ctx.section(
        'prompts/get.args-prompt',
        await ctx.step(() => client.getPrompt({ name: N('args-prompt'), arguments: { city: 'Lisbon', state: 'Lisboa' } }))
    );

    const resources = await ctx.step(() => client.listResources());
    ctx.section('resources/list', resources);
    const first = resources.result?.resources?.find(r => r.uri.startsWith('demo://resource/static/document/'));
    ctx.section('resources/read.static-document', first ? await ctx.step(() => client.readResource({ uri: first.uri })) : null);
    ctx.section(
        'resources/read.dynamic-text',
        await ctx.step(() => client.readResource({ uri: 'demo://resource/dynamic/text/1' }))
    );
    ctx.section('resources/templates/list', await ctx.step(() => client.listResourceTemplates()));

    ctx.section(
        'completion/complete.prompt',
        await ctx.step(() =>
            client.complete({
                ref: { type: 'ref/prompt', name: N('completable-prompt') },
                argument: { name: 'department', value: 'E' }
            })
        )
    );
    ctx.section(
        'completion/complete.template',
        await ctx.step(() =>
            client.complete({
                ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' },
                argument: { name: 'resourceId', value: '7' }
            })
        )
    );

    // How the server itself was initialized (through mcpgw: by mcpgw), per
    // server process, without repeats.
    const inits = ctx
        .serverSaw()
        .filter(e => e.dir === 'to-server' && e.msg?.method === 'initialize')
        .map(e => e.msg.params);
    const distinct = xs => [...new Set(xs.map(x => JSON.stringify(x)))].map(x => JSON.parse(x));
    ctx.section('server-saw.initialize.protocolVersion', distinct(inits.map(p => p?.protocolVersion ?? null)));
    ctx.section('server-saw.initialize.capabilities', distinct(inits.map(p => p?.capabilities ?? null)));
}
