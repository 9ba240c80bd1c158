// tasks: server-everything 2026.8.31 declares the tasks capability (list,
// cancel, task-augmented tools/call) and lists simulate-research-query with
// execution.taskSupport "required" (4 stages of 1 s). With SDK 1.x the client
// runs it as a task through client.experimental.tasks.callToolStream (create,
// then tasks/get polls, then tasks/result), then creates a second task and
// drives tasks/get, tasks/list, tasks/cancel and tasks/result by hand.
// SDK 2.x has no tasks runtime (its tasks/* types are kept "for
// interoperability only"): it records what it can see, the capability, the
// tool's execution field, and a plain call of the task-only tool.
const TOOL = 'simulate-research-query';

function taskView(t) {
    if (!t || typeof t !== 'object') return t;
    const { taskId, createdAt, lastUpdatedAt, statusMessage, ...rest } = t;
    return { ...rest, hasTaskId: typeof taskId === 'string' && taskId.length > 0 };
}

export default async function tasks(ctx) {
    const { client, sdk, N } = ctx;
    // Let the server finish initializing (server-everything registers some
    // tools on notifications/initialized and asks for roots 350 ms later;
    // through mcpgw the lists follow its list_changed).
    await ctx.initSettled();
    ctx.section('tasks.capability', client.getServerCapabilities()?.tasks ?? null);
    const list = await ctx.step(() => client.listTools());
    const tool = list.result?.tools.find(t => t.name === N(TOOL));
    ctx.section('tasks.tool-listed', !!tool);
    ctx.section('tasks.tool-execution', tool?.execution ?? null);

    if (sdk.kind !== 'v1') {
        ctx.section('tasks.plain-call', await ctx.step(() => ctx.callTool({ name: N(TOOL), arguments: { topic: 'gateways' } })));
        return;
    }

    const { CallToolResultSchema, CreateTaskResultSchema } = sdk.types;
    const T = client.experimental.tasks;

    // A: the SDK's own streaming task flow.
    const seen = [];
    try {
        const stream = T.callToolStream({ name: N(TOOL), arguments: { topic: 'gateways' } }, CallToolResultSchema, {
            task: { ttl: 60000 }
        });
        for await (const m of stream) {
            if (m.type === 'taskCreated') seen.push({ type: m.type, task: taskView(m.task) });
            else if (m.type === 'taskStatus') seen.push({ type: m.type, status: m.task.status });
            else if (m.type === 'result') seen.push({ type: m.type, result: m.result });
            else if (m.type === 'error') seen.push({ type: m.type, error: ctx.errInfo(m.error) });
        }
    } catch (e) {
        seen.push({ type: 'thrown', error: ctx.errInfo(e) });
    }
    // Polls land on stages by timing: keep the first of each run of statuses.
    ctx.section(
        'tasks.stream',
        seen.filter((m, i) => !(m.type === 'taskStatus' && seen[i - 1]?.type === 'taskStatus' && seen[i - 1].status === m.status))
    );

    // B: create, get, list, cancel, result.
    const created = await ctx.step(() =>
        client.request(
            { method: 'tools/call', params: { name: N(TOOL), arguments: { topic: 'cancel me' } } },
            CreateTaskResultSchema,
            { task: { ttl: 60000 } }
        )
    );
    ctx.section('tasks.create', created.result ? { task: taskView(created.result.task) } : created);
    const id = created.result?.task?.taskId;
    if (!id) return;
    const got = await ctx.step(() => T.getTask(id));
    ctx.section('tasks.get', got.result ? taskView(got.result) : got);
    const listed = await ctx.step(() => T.listTasks());
    ctx.section(
        'tasks.list',
        listed.result ? { count: listed.result.tasks.length, includesCreated: listed.result.tasks.some(t => t.taskId === id) } : listed
    );
    const cancelled = await ctx.step(() => T.cancelTask(id));
    ctx.section('tasks.cancel', cancelled.result ? taskView(cancelled.result) : cancelled);
    const after = await ctx.step(() => T.getTask(id));
    ctx.section('tasks.get-after-cancel', after.result ? taskView(after.result) : after);
    ctx.section('tasks.result-after-cancel', await ctx.step(() => T.getTaskResult(id, CallToolResultSchema)));
}
