namespace QuantBuild.Engine.Calibration;

/// <summary>
/// How a calibration (or probe) splits the tensors it exposes into passes so that one pass's outputs fit a memory
/// budget: the batch size, and the tensors of each group. Each group is a separate pass over the same batches that
/// fetches only its tensors, so every tensor sees exactly the batches, in the same order, it would see in one pass:
/// grouping changes memory and the number of forward passes, never a statistic.
/// </summary>
public sealed class CaptureGroups
{
    /// <summary>
    /// How many times a pass's captured bytes are counted against the budget: the buffers ONNX Runtime fills for one
    /// batch, as much again for the model's own intermediates that nobody observes, and once more for the arena ORT
    /// keeps between runs (calibration observes each batch before the next run, so only one batch is ever held).
    /// </summary>
    public const int Copies = 3;

    /// <summary>
    /// A batch derived from the budget is not shrunk below this many samples (nor below the configured size, if smaller)
    /// to avoid a second group: ONNX Runtime runs a few samples at once far more efficiently than one, while each
    /// extra group costs a whole forward pass.
    /// </summary>
    public const int PreferredMinimumBatch = 8;

    private CaptureGroups(int batchSize, IReadOnlyList<IReadOnlyList<string>> groups)
    {
        BatchSize = batchSize;
        Groups = groups;
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The tensors of each pass, in the order given to <see cref="Plan"/>.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Groups { get; }

    /// <summary>Everything in one pass at <paramref name="batchSize"/>: what an unbounded request gets.</summary>
    public static CaptureGroups Single(IReadOnlyList<string> tensors, int batchSize) =>
        new(Math.Max(1, batchSize), tensors.Count == 0 ? Array.Empty<IReadOnlyList<string>>() : [tensors.ToList()]);

    /// <summary>
    /// Plans batches and groups for <paramref name="tensors"/> (name and bytes per sample, measured on one sample) within
    /// <paramref name="budgetBytes"/>. A pass may hold <paramref name="budgetBytes"/> / <see cref="Copies"/> of captured
    /// outputs. When <paramref name="deriveBatch"/> is false the batch is <paramref name="batchSize"/> as given;
    /// otherwise it is the largest batch up to <paramref name="batchSize"/> that keeps everything in one pass, but not
    /// below <see cref="PreferredMinimumBatch"/> (groups are made instead), and never so large that the biggest tensor
    /// alone overflows a pass. Tensors are then packed greedily, in order, into groups that fit. A tensor that alone
    /// exceeds a pass at a batch size the user fixed gets a group of its own: the least memory that batch allows.
    /// </summary>
    public static CaptureGroups Plan(IReadOnlyList<(string Name, long BytesPerSample)> tensors, long budgetBytes, int batchSize, bool deriveBatch)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        int cap = Math.Max(1, batchSize);
        long pass = Math.Max(1, budgetBytes / Copies);
        long total = 0;
        long largest = 1;
        foreach ((_, long bytes) in tensors)
        {
            total += Math.Max(0, bytes);
            largest = Math.Max(largest, bytes);
        }

        int rows = cap;
        if (deriveBatch)
        {
            long oneGroup = pass / Math.Max(1, total);
            rows = (int)Math.Clamp(oneGroup, Math.Min(cap, PreferredMinimumBatch), cap);
            rows = (int)Math.Clamp(pass / largest, 1, rows);
        }

        var groups = new List<IReadOnlyList<string>>();
        List<string>? open = null;
        long openBytes = 0;
        foreach ((string name, long bytes) in tensors)
        {
            long batchBytes = Math.Max(0, bytes) * rows;
            if (open is null || (open.Count > 0 && openBytes + batchBytes > pass))
            {
                open = [];
                openBytes = 0;
                groups.Add(open);
            }

            open.Add(name);
            openBytes += batchBytes;
        }

        return new CaptureGroups(rows, groups);
    }
}
