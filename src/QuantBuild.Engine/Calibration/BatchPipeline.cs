using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// Observes batches on one worker thread while the caller runs the next batch in ONNX Runtime. A batch holds one of a
/// fixed number of slots from before it is read until it has been observed, so memory is bounded by the slot count
/// (the caller waits for a free slot); one worker taking batches in the order posted means every observer sees its
/// batches in exactly the order it would without the worker, so no statistic depends on thread timing.
/// </summary>
internal sealed class BatchPipeline : IDisposable
{
    private readonly BlockingCollection<(int Slot, Action Work, IDisposable? Owned)> _queue = new();
    private readonly BlockingCollection<int> _free = new();
    private readonly Thread _worker;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Starts the worker with <paramref name="slots"/> batches allowed in flight.</summary>
    public BatchPipeline(int slots)
    {
        for (int i = 0; i < slots; i++)
        {
            _free.Add(i);
        }

        _worker = new Thread(Work) { IsBackground = true, Name = "QuantBuild observer" };
        _worker.Start();
    }

    /// <summary>Waits for a free slot (the worker has finished with the batch that held it) and returns it.</summary>
    public int TakeSlot(CancellationToken cancellation)
    {
        _failure?.Throw();
        int slot = _free.Take(cancellation);
        _failure?.Throw();
        return slot;
    }

    /// <summary>
    /// Queues <paramref name="work"/> (the observation of the batch in <paramref name="slot"/>); the slot frees when it is
    /// done. <paramref name="owned"/> (the memory the batch is read from) is disposed after it, or instead of it once a
    /// batch before has failed.
    /// </summary>
    public void Post(int slot, Action work, IDisposable? owned = null)
    {
        try
        {
            _queue.Add((slot, work, owned));
        }
        catch
        {
            owned?.Dispose();
            throw;
        }
    }

    /// <summary>Waits until every posted batch is observed; rethrows the first failure of the worker.</summary>
    public void Finish()
    {
        _queue.CompleteAdding();
        _worker.Join();
        _failure?.Throw();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_queue.IsAddingCompleted)
        {
            _queue.CompleteAdding();
        }

        _worker.Join();
        _queue.Dispose();
        _free.Dispose();
    }

    private void Work()
    {
        while (ObserveNext() is int slot)
        {
            _free.Add(slot);
        }
    }

    // Its own frame, not inlined: when it returns, nothing on the worker's stack still references the batch it
    // observed, so a slot's batch is unreachable before the slot is reused.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int? ObserveNext()
    {
        if (!_queue.TryTake(out (int Slot, Action Work, IDisposable? Owned) item, Timeout.Infinite))
        {
            return null;
        }

        try
        {
            if (_failure is null)
            {
                item.Work();
            }
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            item.Owned?.Dispose();
        }

        return item.Slot;
    }
}
