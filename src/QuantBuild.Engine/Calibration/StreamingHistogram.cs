using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// A histogram over a range that is not known in advance, built in one pass with fixed memory. The range grows
/// by doubling the bin width and merging adjacent bins, which is exact: no count ever moves to the wrong bin.
/// Every value is counted until the histogram holds twice <see cref="ExactValues"/>; from then on each batch counts
/// a sample of it (<see cref="Cover"/>), weighted so the counts stay estimates of every value's.
/// </summary>
public sealed class StreamingHistogram
{
    /// <summary>Batches of at least this many values per bin take the vectorized path; smaller ones would mostly sum its copies.</summary>
    private const int VectorMinimum = 4;

    /// <summary>Interleaved 32-bit copies of the counts a tally keeps (<see cref="Tally"/>).</summary>
    private const int Copies = 1 << CopiesShift;

    /// <summary>log2 of <see cref="Copies"/>: a tally slot is bin &lt;&lt; CopiesShift | copy (<see cref="Slots"/>).</summary>
    private const int CopiesShift = 3;

    /// <summary>
    /// The default <see cref="ExactValues"/>: 2^24 (16.8 M). A bin holding a ten-thousandth of the values then counts at
    /// least 1,678 of them, within 2.5 % (one standard deviation) of what counting all would give, however many follow.
    /// </summary>
    public const long DefaultExactValues = 1L << 24;

    /// <summary>The most one counted value stands for: a batch counts at least one block in 64 on average.</summary>
    public const int MaxWeight = 64;

    /// <summary>Values in a block, the unit a sampled batch keeps or skips (the first block starts at the batch's first value).</summary>
    public const int Block = 512;

    /// <summary>A tally (<see cref="Copies"/> 32-bit copies of the counts, plus a slot for non-finite values) per thread.</summary>
    [ThreadStatic]
    private static uint[]? t_copies;

    private readonly long[] _counts;
    private double _start;
    private double _width;
    private bool _initialised;
    private long _batches;
    private int _weight = 1;

    /// <summary>
    /// Creates an empty histogram with <paramref name="bins"/> bins (even, at least 2) that counts every value until it
    /// holds twice <paramref name="exactValues"/> (<see cref="long.MaxValue"/>: always every value).
    /// </summary>
    public StreamingHistogram(int bins = 2048, long exactValues = DefaultExactValues)
    {
        if (bins < 2 || bins % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), "Bin count must be even and at least 2.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(exactValues, 1);
        _counts = new long[bins];
        ExactValues = exactValues;
    }

    /// <summary>
    /// Values counted one by one before batches are sampled. Past twice this many, a batch is cut into
    /// <see cref="Block"/>s and each kept with probability 1/w, w the largest power of two up to <see cref="Total"/> /
    /// <see cref="ExactValues"/> (at most <see cref="MaxWeight"/>), its values counted w times: every doubling of the
    /// total then counts about <see cref="ExactValues"/> more values, so a bin's relative error stays where it was at
    /// the threshold, and the cost of a histogram grows with the log of the samples instead of their number. Which
    /// blocks are kept is a hash of the block's index and the batch's, so the same batches give the same counts, bit
    /// for bit, on any number of threads and in any parts.
    /// </summary>
    public long ExactValues { get; }

    /// <summary>What each value of the current batch counts for: 1 until the histogram is sampled (<see cref="ExactValues"/>).</summary>
    public int Weight => _weight;

    /// <summary>Number of bins.</summary>
    public int Bins => _counts.Length;

    /// <summary>Lower edge of the first bin.</summary>
    public double Start => _start;

    /// <summary>Width of every bin.</summary>
    public double BinWidth => _width;

    /// <summary>Upper edge of the last bin.</summary>
    public double End => _start + _width * _counts.Length;

    /// <summary>Total values added.</summary>
    public long Total { get; private set; }

    /// <summary>The counts, bin by bin.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Adds every finite value of <paramref name="values"/>, whose range is [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public void Add(ReadOnlySpan<float> values, float min, float max)
    {
        // Non-finite bounds mean the caller saw no finite value: nothing to bin.
        if (values.IsEmpty || !float.IsFinite(min) || !float.IsFinite(max))
        {
            return;
        }

        Cover(min, max);
        AddCovered(values, 0);
    }

    /// <summary>
    /// <see cref="Add"/> one value at a time, the definition the vectorized path must match bin for bin: bin
    /// ⌊(v − start) / width⌋ in double (v − start times the inverse width), clamped to the first and last bin.
    /// </summary>
    internal void AddScalar(ReadOnlySpan<float> values, float min, float max)
    {
        if (values.IsEmpty || !float.IsFinite(min) || !float.IsFinite(max))
        {
            return;
        }

        Cover(min, max);
        AddRuns(values, 0, vectorized: false);
    }

    private void AddEach(ReadOnlySpan<float> values, int weight)
    {
        double inverse = 1.0 / _width;
        foreach (float v in values)
        {
            if (float.IsFinite(v))
            {
                _counts[BinOf(v, inverse)] += weight;
                Total += weight;
            }
        }
    }

    // The scalar definition of a finite value's bin: ⌊(v − start) · inverse⌋ in double, clamped to the first and last bin.
    private int BinOf(float v, double inverse)
    {
        int bin = (int)((v - _start) * inverse);
        int last = _counts.Length - 1;
        return bin < 0 ? 0 : bin > last ? last : bin;
    }

    /// <summary>Slots of a tally (<see cref="Tally"/>): <see cref="Copies"/> copies of every bin and of the non-finite slot.</summary>
    internal int TallySlots => (_counts.Length + 1) * Copies;

    /// <summary>
    /// Adds <paramref name="values"/>, all inside the range <see cref="Cover"/> made the histogram cover, the way
    /// <see cref="Add"/> does, from any thread: several threads may add parts of one batch at once, each giving its
    /// part's <paramref name="offset"/> in the batch (a sampled batch keeps or skips blocks by their place in it). Each
    /// part is tallied into the thread's own copies and merged under a lock; the counts are sums, so the histogram is
    /// the same whatever the parts and their order.
    /// </summary>
    internal void AddCovered(ReadOnlySpan<float> values, long offset)
    {
        if (!values.IsEmpty)
        {
            AddRuns(values, offset, Vector256.IsHardwareAccelerated && values.Length >= VectorMinimum * _counts.Length * _weight);
        }
    }

    /// <summary>
    /// Whether a batch of <paramref name="length"/> values can be counted in the same read that finds its range
    /// (<see cref="CountAhead"/>): the histogram has a range already, the batch would count every value (not sampled),
    /// and it is long enough for the vectorized tally.
    /// </summary>
    internal bool CanCountAhead(int length) =>
        _initialised && WeightAfter(Total, ExactValues) == 1 && Vector256.IsHardwareAccelerated && length >= VectorMinimum * _counts.Length;

    /// <summary>
    /// One read of <paramref name="values"/> (a batch, or a part of one) that both finds its min and max (IEEE
    /// minimum/maximum, as <see cref="TensorObserver.MinMax"/>) and bins every value by the range the histogram has
    /// now, into <paramref name="counts"/> (<see cref="Bins"/> entries, overwritten). The counts are what
    /// <see cref="AddCovered"/> would add if the batch turns out inside that range (<see cref="Covers"/>); if not, the
    /// caller drops them and adds the batch the usual way. Reading each batch once instead of twice (a scan, then the
    /// histogram) saves a whole read of every value; what is left is the binning itself.
    /// False when a value is not finite: the bounds then mean nothing and the counts are to be dropped.
    /// </summary>
    internal bool CountAhead(ReadOnlySpan<float> values, Span<long> counts, out float min, out float max)
    {
        uint[] tally = ThreadTally();
        (min, max) = Tally(values, tally);
        int last = _counts.Length * Copies;
        long nonFinite = 0;
        for (int k = 0; k < Copies; k++)
        {
            nonFinite += tally[last + k];
        }

        for (int b = 0; b < _counts.Length; b++)
        {
            counts[b] = SumCopies(tally, b);
        }

        return nonFinite == 0;
    }

    /// <summary>True when the histogram already covers [<paramref name="min"/>, <paramref name="max"/>]: <see cref="Cover"/> would not widen it.</summary>
    internal bool Covers(float min, float max) => _initialised && min >= _start && max < End;

    /// <summary>
    /// Adds the counts <see cref="CountAhead"/> took of one part of the batch <see cref="Cover"/> has just started, which
    /// it covered without widening (<see cref="Covers"/>) and counts every value of.
    /// </summary>
    internal void AddAhead(ReadOnlySpan<long> counts)
    {
        if (_weight != 1)
        {
            throw new InvalidOperationException("Counts taken ahead belong to a batch that counts every value.");
        }

        long added = 0;
        lock (_counts)
        {
            for (int b = 0; b < _counts.Length; b++)
            {
                _counts[b] += counts[b];
                added += counts[b];
            }

            Total += added;
        }
    }

    // Adds the values of the batch's kept blocks (all of them unless the batch is sampled): tallied and merged when
    // vectorized, else straight into the counts, the scalar definition.
    private void AddRuns(ReadOnlySpan<float> values, long offset, bool vectorized)
    {
        int weight = _weight;
        List<Range> runs = KeptRuns(offset, values.Length);
        if (!vectorized)
        {
            lock (_counts)
            {
                foreach (Range run in runs)
                {
                    AddEach(values[run], weight);
                }
            }

            return;
        }

        uint[] tally = ThreadTally();
        foreach (Range run in runs)
        {
            Tally(values[run], tally);
        }

        lock (_counts)
        {
            Merge(tally, weight);
        }
    }

    // The runs of consecutive kept blocks among the length values at offset in the batch, relative to offset.
    private List<Range> KeptRuns(long offset, int length)
    {
        var runs = new List<Range>();
        if (_weight == 1)
        {
            runs.Add(Range.All);
            return runs;
        }

        int run = -1;
        for (long block = offset / Block; block * Block < offset + length; block++)
        {
            int from = (int)(Math.Max(block * Block, offset) - offset);
            bool kept = Kept(block);
            if (kept && run < 0)
            {
                run = from;
            }
            else if (!kept && run >= 0)
            {
                runs.Add(run..from);
                run = -1;
            }
        }

        if (run >= 0)
        {
            runs.Add(run..length);
        }

        return runs;
    }

    // Whether a sampled batch keeps a block: 1 in Weight on average, by a hash of the block's and the batch's number.
    private bool Kept(long block)
    {
        ulong z = ((ulong)(_batches - 1) * 0xD1B54A32D192ED03UL) + ((ulong)block * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z & (ulong)(_weight - 1)) == 0;
    }

    /// <summary>
    /// Makes the histogram cover [<paramref name="min"/>, <paramref name="max"/>] (both finite), as <see cref="Add"/>
    /// does first, and starts a batch: whether and how much it is sampled (<see cref="ExactValues"/>) is decided here,
    /// once, from the values counted before it, so the parts <see cref="AddCovered"/> then adds agree.
    /// </summary>
    internal void Cover(float min, float max)
    {
        EnsureCovers(min, max);
        _weight = WeightAfter(Total, ExactValues);
        _batches++;
    }

    /// <summary>The weight of a batch that follows <paramref name="total"/> counted values (<see cref="ExactValues"/>).</summary>
    internal static int WeightAfter(long total, long exactValues)
    {
        long ratio = total / exactValues;
        return ratio < 2 ? 1 : (int)Math.Min(MaxWeight, 1L << (63 - BitOperations.LeadingZeroCount((ulong)ratio)));
    }

    // The calling thread's tally, cleared, with room for this histogram's slots.
    private uint[] ThreadTally()
    {
        uint[] tally = t_copies is { } c && c.Length >= TallySlots ? c : t_copies = new uint[TallySlots];
        Array.Clear(tally, 0, TallySlots);
        return tally;
    }

    /// <summary>
    /// The same bins as <see cref="AddEach"/>, computed eight values at a time without a branch: each float widened to
    /// double (so (v − start) · inverse is the same double as the scalar one, bit for bit), clamped to [0, last] and
    /// floored (the scalar truncation, as the value is never negative there), turned into an integer by adding 2^52
    /// (eight doubles at a time with AVX-512, <see cref="BinChunk512"/>); non-finite values go to one extra slot instead
    /// of being skipped. The counting itself is one increment per value into eight interleaved 32-bit copies of the
    /// histogram in <paramref name="tally"/>, so runs of equal bins (a Relu's zeros) do not wait on each other's
    /// stores; the vectors list each value's slot (bin × 8 + copy, <see cref="Slots"/>), so the increment is a load and
    /// an add to memory and nothing else. <see cref="Merge"/> sums the copies into the counts. The values after the last whole vector are binned
    /// one by one, the scalar way, into the first copy. Returns the values' IEEE minimum and maximum, read on the way
    /// (<see cref="CountAhead"/>; meaningless when a value is not finite, which the non-finite slot then shows).
    /// </summary>
    private (float Min, float Max) Tally(ReadOnlySpan<float> values, uint[] tally)
    {
        const int Chunk = 512;
        Vector256<double> start = Vector256.Create(_start);
        Vector256<double> inverse = Vector256.Create(1.0 / _width);
        Vector256<double> last = Vector256.Create((double)(_counts.Length - 1));
        Vector256<double> skipped = Vector256.Create((double)_counts.Length);
        Span<int> bins = stackalloc int[Chunk];
        ref float first = ref MemoryMarshal.GetReference(values);
        ref uint counts = ref MemoryMarshal.GetArrayDataReference(tally);
        int whole = values.Length - values.Length % Vector256<float>.Count;
        // The bin 0 falls in by the scalar definition (clamped like any value).
        int zeroBin = (int)Math.Clamp(Math.Floor((0.0 - _start) * (1.0 / _width)), 0, _counts.Length - 1);
        Vector256<float> lowest = Vector256.Create(float.PositiveInfinity), highest = Vector256.Create(float.NegativeInfinity);
        var zeros = new TensorObserver.ZeroSigns();
        SingleBinning single = SingleBinning.For(_start, 1.0 / _width, _counts.Length);
        for (int at = 0; at < whole; at += Chunk)
        {
            int n = Math.Min(Chunk, whole - at);
            if (Avx512F.VL.IsSupported)
            {
                // Values in the bin of 0 (a Relu's zeros) are counted at once; only the others are listed to increment.
                n = BinChunk512(ref Unsafe.Add(ref first, at), n, bins, _start, 1.0 / _width, single, _counts.Length, zeroBin, out int inZeroBin, ref lowest, ref highest, ref zeros);
                Unsafe.Add(ref counts, zeroBin * Copies) += (uint)inZeroBin;
            }
            else
            {
                for (int k = 0; k < n; k += Vector256<float>.Count)
                {
                    Vector256<float> v = Vector256.LoadUnsafe(ref first, (nuint)(at + k));
                    lowest = Vector256.MinNative(lowest, v);
                    highest = Vector256.MaxNative(highest, v);
                    zeros.Add(v);
                    Vector256<int> finite = Vector256.Equals(v - v, Vector256<float>.Zero).AsInt32();
                    (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(v);
                    (Vector256<long> lowerFinite, Vector256<long> upperFinite) = Vector256.Widen(finite);
                    Vector256<long> lowerBin = Bin(lower, lowerFinite.AsDouble(), start, inverse, last, skipped);
                    Vector256<long> upperBin = Bin(upper, upperFinite.AsDouble(), start, inverse, last, skipped);
                    // Each value's slot in the tally: its bin's copy number k + lane, k being a multiple of 8.
                    Slots(Vector256.Narrow(lowerBin, upperBin), k).StoreUnsafe(ref MemoryMarshal.GetReference(bins), (nuint)k);
                }
            }

            Increment(ref counts, ref MemoryMarshal.GetReference(bins), n);
        }

        // Exact while every value is finite; with one that is not, the caller drops the bounds (see the non-finite slot).
        (float min, float max) = zeros.Reduce(lowest, highest);

        double scalarInverse = 1.0 / _width;
        foreach (float v in values[whole..])
        {
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
            // A non-finite value goes to the slot after the last bin, as in the vectorized loops.
            tally[(float.IsFinite(v) ? BinOf(v, scalarInverse) : _counts.Length) * Copies]++;
        }

        return (min, max);
    }

    // The tally slots of a vector of bins listed from position at: copy (at + lane) mod Copies of each, so consecutive values never
    // increment the same word (a run of one bin does not wait on its own stores).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Slots(Vector256<int> bins, int at) =>
        Vector256.ShiftLeft(bins, CopiesShift) | ((Vector256.Create(at) + Vector256<int>.Indices) & Vector256.Create(Copies - 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Slots(Vector512<int> bins, int at) =>
        Vector512.ShiftLeft(bins, CopiesShift) | ((Vector512.Create(at) + Vector512<int>.Indices) & Vector512.Create(Copies - 1));

    // One increment per listed slot (Slots), eight at a time: a load and an add to memory each. Optimized from its first
    // call, as BinChunk512: a calibration over a few batches would otherwise count most of its values in unoptimized code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Increment(ref uint counts, ref int slots, int n)
    {
        int j = 0;
        for (; j <= n - 8; j += 8)
        {
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j))++;
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j + 1))++;
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j + 2))++;
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j + 3))++;
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j + 4))++;
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j + 5))++;
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j + 6))++;
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j + 7))++;
        }

        for (; j < n; j++)
        {
            Unsafe.Add(ref counts, (uint)Unsafe.Add(ref slots, j))++;
        }
    }

    // The count of a bin over a tally's copies.
    private static long SumCopies(uint[] tally, int bin)
    {
        int o = bin * Copies;
        long sum = 0;
        for (int k = 0; k < Copies; k++)
        {
            sum += tally[o + k];
        }

        return sum;
    }

    // Adds a tally's copies, each count standing for weight values, into the counts (not its non-finite slot).
    private void Merge(uint[] tally, int weight)
    {
        long added = 0;
        for (int b = 0; b < _counts.Length; b++)
        {
            long sum = SumCopies(tally, b);
            _counts[b] += sum * weight;
            added += sum;
        }

        Total += added * weight;
    }

    /// <summary>
    /// The bins of <paramref name="n"/> (a multiple of 8) values from <paramref name="values"/> with AVX-512, the same bins
    /// as the scalar definition, by one of two computations. Exact: the eight floats of a 256-bit load widened to eight
    /// doubles at once (exact), (v − start) · inverse, clamped to [0, last], non-finite lanes replaced by the skipped slot,
    /// and truncated to int32 (the scalar truncation, the value being never negative). Fast, when
    /// <paramref name="single"/> allows it (<see cref="SingleBinning"/>): sixteen floats at a time in single precision,
    /// whose x is within <see cref="SingleBinning.Delta"/> of the double one; a lane farther than that from every bin edge
    /// inside the range (the integers 1 … last; on either side of 0 or of the end the bin is the first or the last anyway)
    /// falls in the same bin as in double, and a vector holding a lane that is not is binned the exact way instead, so
    /// the bins are the scalar definition's, bit for bit. Lanes whose bin is <paramref name="zeroBin"/> are only
    /// counted (<paramref name="inZeroBin"/>); the others' tally slots (<see cref="Slots"/>) are packed to the front of
    /// <paramref name="bins"/> (AVX-512 compress), and their number is returned. The values' lane-wise minimum and maximum are folded into
    /// <paramref name="lowest"/> and <paramref name="highest"/> on the way, and their zeros into <paramref name="zeros"/>
    /// (the processor's min/max, made IEEE's by <see cref="TensorObserver.ZeroSigns"/>).
    /// Compiled optimized from its first call (<c>AggressiveOptimization</c>): .NET's tiered compilation would run the
    /// first ~30 calls and the 100 ms after them as unoptimized, instrumented code, which is the whole calibration of a
    /// small model in a build.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int BinChunk512(ref float values, int n, Span<int> bins, double startValue, double inverseWidth, in SingleBinning single, int binCount, int zeroBin,
        out int inZeroBin, ref Vector256<float> lowest, ref Vector256<float> highest, ref TensorObserver.ZeroSigns zeros)
    {
        Vector512<double> start = Vector512.Create(startValue);
        Vector512<double> inverse = Vector512.Create(inverseWidth);
        Vector512<double> last = Vector512.Create((double)(binCount - 1));
        Vector512<double> skipped = Vector512.Create((double)binCount);
        Vector256<int> zero = Vector256.Create(zeroBin);
        ref int output = ref MemoryMarshal.GetReference(bins);
        int written = 0;
        int k = 0;
        Vector256<float> low = lowest, high = highest;
        TensorObserver.ZeroSigns seen = zeros;
        if (single.Fast)
        {
            Vector512<float> startSingle = Vector512.Create(single.Start);
            Vector512<float> inverseSingle = Vector512.Create(single.Inverse);
            Vector512<float> lastSingle = Vector512.Create((float)(binCount - 1));
            Vector512<float> firstEdge = Vector512.Create(0.5f), lastEdge = Vector512.Create(binCount - 0.5f);
            Vector512<float> delta = Vector512.Create(single.Delta);
            Vector512<int> skippedSlot = Vector512.Create(binCount), zero16 = Vector512.Create(zeroBin);
            Vector512<float> low16 = Vector512.Create(float.PositiveInfinity), high16 = Vector512.Create(float.NegativeInfinity);
            // The signs, gathered as ZeroSigns does, sixteen lanes wide.
            Vector512<int> signSet = Vector512<int>.Zero, signClear = Vector512<int>.Zero;
            for (; k + Vector512<float>.Count <= n; k += Vector512<float>.Count)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref values, (nuint)k);
                low16 = Vector512.MinNative(low16, v);
                high16 = Vector512.MaxNative(high16, v);
                signSet |= v.AsInt32();
                signClear |= ~v.AsInt32();
                Vector512<float> x = (v - startSingle) * inverseSingle;
                // Distance to the nearest bin edge inside the range; x clamped to [0.5, last + 0.5] leaves out 0 and the end.
                Vector512<float> inside = Vector512.MinNative(Vector512.MaxNative(x, firstEdge), lastEdge);
                Vector512<int> bin;
                if (Vector512.LessThanAny(Vector512.Abs(inside - Avx512F.RoundScale(inside, 0)), delta))
                {
                    bin = Vector512.Create(Exact8(v.GetLower(), start, inverse, last, skipped), Exact8(v.GetUpper(), start, inverse, last, skipped));
                }
                else
                {
                    Vector512<int> finite = Vector512.Equals(v - v, Vector512<float>.Zero).AsInt32();
                    bin = Vector512.ConditionalSelect(finite, Avx512F.ConvertToVector512Int32WithTruncation(Vector512.MinNative(Vector512.MaxNative(x, Vector512<float>.Zero), lastSingle)), skippedSlot);
                }

                Vector512<int> other = ~Vector512.Equals(bin, zero16);
                // written <= k, so the sixteen lanes stored stay inside the n the chunk was given.
                Slots(Avx512F.Compress(bin, other, bin), written).StoreUnsafe(ref output, (nuint)written);
                written += BitOperations.PopCount(other.ExtractMostSignificantBits());
            }

            low = Vector256.MinNative(low, Vector256.MinNative(low16.GetLower(), low16.GetUpper()));
            high = Vector256.MaxNative(high, Vector256.MaxNative(high16.GetLower(), high16.GetUpper()));
            seen.Add(signSet, signClear);
        }

        for (; k < n; k += Vector256<float>.Count)
        {
            Vector256<float> v = Vector256.LoadUnsafe(ref values, (nuint)k);
            low = Vector256.MinNative(low, v);
            high = Vector256.MaxNative(high, v);
            seen.Add(v);
            Vector256<int> bin = Exact8(v, start, inverse, last, skipped);
            Vector256<int> other = ~Vector256.Equals(bin, zero);
            // written <= k, so the eight lanes stored stay inside the n the chunk was given.
            Slots(Avx512F.VL.Compress(bin, other, bin), written).StoreUnsafe(ref output, (nuint)written);
            written += BitOperations.PopCount(other.ExtractMostSignificantBits());
        }

        lowest = low;
        highest = high;
        zeros = seen;
        inZeroBin = n - written;
        return written;
    }

    // The exact bins of eight values with AVX-512: widened to double, (v − start) · inverse clamped to [0, last] and
    // truncated, non-finite lanes to the skipped slot.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Exact8(Vector256<float> v, Vector512<double> start, Vector512<double> inverse, Vector512<double> last, Vector512<double> skipped)
    {
        Vector512<double> finite = Avx512F.ConvertToVector512Int64(Vector256.Equals(v - v, Vector256<float>.Zero).AsInt32()).AsDouble();
        Vector512<double> x = Vector512.MinNative(Vector512.MaxNative((Avx512F.ConvertToVector512Double(v) - start) * inverse, Vector512<double>.Zero), last);
        return Avx512F.ConvertToVector256Int32WithTruncation(Vector512.ConditionalSelect(finite, x, skipped));
    }

    /// <summary>
    /// Whether and how a histogram's bins can be computed in single precision and still be the double definition's
    /// (<see cref="BinChunk512"/>). With s = (float)start and i = (float)inverse, the float x = (v − s) · i (each step
    /// rounded to float) differs from the double one by at most |start − s| · inverse · (1 + 4u) plus 4u (u = 2^-24, the
    /// float rounding of the subtraction, of the inverse and of the product, each relative) of |x| ≤ bins + 2, wherever
    /// the bin is in question; <see cref="Delta"/> is twice that, plus u. Fast only while <see cref="Delta"/> stays
    /// under 1/16, so few values fall near enough an edge to be binned again in double: a range that starts far from
    /// zero in units of its bin width (start not a float, or much larger than the range) keeps the double path.
    /// </summary>
    internal readonly record struct SingleBinning(bool Fast, float Start, float Inverse, float Delta)
    {
        public static SingleBinning For(double start, double inverse, int bins)
        {
            const double U = 1.0 / (1 << 24);
            float s = (float)start, i = (float)inverse;
            if (!float.IsFinite(s) || !float.IsFinite(i) || i <= 0 || !Avx512F.VL.IsSupported)
            {
                return default;
            }

            double error = (Math.Abs(start - s) * inverse * (1 + (4 * U))) + ((bins + 2.0) * 4 * U);
            double delta = (2 * error) + U;
            return delta < 1.0 / 16 ? new SingleBinning(true, s, i, (float)delta) : default;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<long> Bin(Vector256<double> v, Vector256<double> finite, Vector256<double> start, Vector256<double> inverse,
        Vector256<double> last, Vector256<double> skipped)
    {
        // Lanes that are not finite are replaced by the skipped slot, so the native (non-IEEE) min/max is enough.
        Vector256<double> x = Vector256.MinNative(Vector256.MaxNative((v - start) * inverse, Vector256<double>.Zero), last);
        return (Vector256.ConditionalSelect(finite, Vector256.Floor(x), skipped) + Vector256.Create(4503599627370496.0)).AsInt64();
    }

    /// <summary>The value below which <paramref name="fraction"/> of all values lie, interpolated inside a bin.</summary>
    public double Quantile(double fraction)
    {
        if (Total == 0)
        {
            return 0;
        }

        double target = Math.Clamp(fraction, 0, 1) * Total;
        double cumulative = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            long c = _counts[i];
            if (c > 0 && cumulative + c >= target)
            {
                double within = (target - cumulative) / c;
                return _start + (i + within) * _width;
            }

            cumulative += c;
        }

        return End;
    }

    private void EnsureCovers(float min, float max)
    {
        if (!_initialised)
        {
            // Start a little wider than the first batch so a slightly larger later value does not force a merge at once.
            double span = Math.Max(max - min, 1e-6);
            _start = min;
            _width = span * 1.0001 / _counts.Length;
            _initialised = true;
        }

        while (min < _start)
        {
            GrowLeft();
        }

        while (max >= End)
        {
            GrowRight();
        }
    }

    private void GrowRight()
    {
        // New range [start, start + 2·B·w): old bin i lands in new bin i/2.
        int half = _counts.Length / 2;
        for (int i = 0; i < half; i++)
        {
            _counts[i] = _counts[2 * i] + _counts[2 * i + 1];
        }

        Array.Clear(_counts, half, half);
        _width *= 2;
    }

    private void GrowLeft()
    {
        // New range [start − B·w, start + B·w): old bin i lands in new bin B/2 + i/2.
        int half = _counts.Length / 2;
        for (int i = half - 1; i >= 0; i--)
        {
            _counts[half + i] = _counts[2 * i] + _counts[2 * i + 1];
        }

        Array.Clear(_counts, 0, half);
        _start -= _width * _counts.Length;
        _width *= 2;
    }
}
