namespace QuantBuild.Engine.Calibration;

/// <summary>
/// A fixed set of threads of the calibrator's own that take turns with ONNX Runtime's: they sleep in the kernel while
/// a run is on and wake for the observing between runs. Unlike .NET's thread pool (whose idle workers spin-wait for
/// more work after each item), nothing here spins while ORT computes, so ORT's threads keep both cores.
/// </summary>
internal sealed class ObserverThreads : IDisposable
{
    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private long _generation;
    private int _count;
    private Action<int>? _body;
    private int _next;
    private int _running;
    private Exception? _error;
    private bool _disposed;

    /// <summary>Runs work on <paramref name="threads"/> threads, the caller's included (so one fewer of its own).</summary>
    public ObserverThreads(int threads)
    {
        Threads = Math.Max(1, threads);
        _threads = new Thread[Threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"qb-observer-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads used, the calling one included.</summary>
    public int Threads { get; }

    /// <summary>Calls <paramref name="body"/> for 0 ≤ i &lt; <paramref name="count"/>, each index once, on every thread; returns when all are done.</summary>
    public void For(int count, Action<int> body)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_threads.Length == 0 || count < 2)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        lock (_gate)
        {
            _body = body;
            _count = count;
            _next = 0;
            _error = null;
            _running = _threads.Length;
            _generation++;
            Monitor.PulseAll(_gate);
        }

        Exception? own = null;
        try
        {
            Work(body, count);
        }
        catch (Exception e)
        {
            own = e;
            Interlocked.Exchange(ref _next, count);
        }

        lock (_gate)
        {
            while (_running > 0)
            {
                Monitor.Wait(_gate);
            }

            _body = null;
        }

        if ((own ?? _error) is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }

        foreach (Thread thread in _threads)
        {
            thread.Join();
        }
    }

    private void Work(Action<int> body, int count)
    {
        for (int i = Interlocked.Increment(ref _next) - 1; i < count; i = Interlocked.Increment(ref _next) - 1)
        {
            body(i);
        }
    }

    private void Loop()
    {
        long seen = 0;
        while (true)
        {
            Action<int> body;
            int count;
            lock (_gate)
            {
                while (_generation == seen && !_disposed)
                {
                    Monitor.Wait(_gate);
                }

                if (_disposed)
                {
                    return;
                }

                seen = _generation;
                body = _body!;
                count = _count;
            }

            try
            {
                Work(body, count);
            }
            catch (Exception e)
            {
                Interlocked.Exchange(ref _next, count);
                lock (_gate)
                {
                    _error ??= e;
                }
            }

            lock (_gate)
            {
                if (--_running == 0)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }
}
