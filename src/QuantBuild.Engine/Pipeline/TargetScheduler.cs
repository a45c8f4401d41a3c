using System.Runtime.ExceptionServices;

namespace QuantBuild.Engine.Pipeline;

/// <summary>Runs one job per target on up to N threads; results come back in target order whatever order they finish in.</summary>
internal static class TargetScheduler
{
    /// <summary>
    /// Runs <paramref name="run"/> for every index in <paramref name="indices"/>, <paramref name="concurrency"/> at a time.
    /// A job is expected to contain its own failures; one that still throws (cancellation) stops the others from starting
    /// and is rethrown once every running job has ended.
    /// </summary>
    public static void Run(IReadOnlyList<int> indices, int concurrency, Action<int> run)
    {
        if (concurrency <= 1 || indices.Count <= 1)
        {
            foreach (int i in indices)
            {
                run(i);
            }

            return;
        }

        int next = -1;
        ExceptionDispatchInfo? failure = null;
        var workers = new Thread[Math.Min(concurrency, indices.Count)];
        for (int w = 0; w < workers.Length; w++)
        {
            // Dedicated threads: a target blocks in ONNX Runtime for minutes, which a thread-pool worker should not.
            workers[w] = new Thread(() =>
            {
                int n;
                while (Volatile.Read(ref failure) is null && (n = Interlocked.Increment(ref next)) < indices.Count)
                {
                    try
                    {
                        run(indices[n]);
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                    }
                }
            }, maxStackSize: 16 << 20) { IsBackground = true, Name = $"quantbuild target {w}" };
            workers[w].Start();
        }

        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        failure?.Throw();
    }
}
