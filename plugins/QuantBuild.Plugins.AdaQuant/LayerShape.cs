using QuantBuild.Abstractions.Tensors;
using QuantBuild.PassKit;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// One linear layer (PassKit's <see cref="LinearLayer"/>: <see cref="Rows"/> output channels of <see cref="K"/> inputs
/// each) with how its input activation turns into rows of K values: the features of a Gemm/MatMul, the im2col patches
/// of a Conv in any padding mode.
/// </summary>
internal sealed class LayerShape
{
    private readonly GraphIndex _index;

    private LayerShape(GraphIndex index, LinearLayer linear)
    {
        _index = index;
        Linear = linear;
    }

    public LinearLayer Linear { get; }

    public string Name => Linear.Name;

    public string OpType => Linear.Node.OpType;

    public int Rows => Linear.Rows;

    public int K => Linear.Columns;

    /// <summary>Conv groups (rows g·Rows/Groups … belong to group g); 1 otherwise.</summary>
    public int Groups => Linear.Groups;

    /// <summary>[out, in] layouts (Conv, Gemm transB=1) keep rows contiguous; [in, out] (MatMul, Gemm transB=0) keep columns.</summary>
    public bool Transposed => Linear.Transposed;

    /// <summary>The weight's axis of output channels (per-channel scales).</summary>
    public int OutputAxis => Linear.OutputAxis;

    public int Group(int row) => Linear.GroupOf(row);

    /// <summary>The flat index in the weight tensor of row <paramref name="row"/>, input <paramref name="j"/>.</summary>
    public long Index(int row, int j) => Linear.Index(row, j);

    /// <summary>The weight as [Rows, K] row-major.</summary>
    public float[] Matrix() => Linear.ReadMatrix(_index);

    /// <summary>The layer <paramref name="node"/> is, or why it cannot be optimised.</summary>
    public static LayerShape? TryCreate(GraphIndex index, Abstractions.Ir.Node node, out string? why)
    {
        if (LinearLayer.TryCreate(index, node, out why) is not { } linear)
        {
            return null;
        }

        if (linear.IsConv && linear.WeightDims.Length > 4)
        {
            why = $"only 1-D and 2-D convolutions are optimised (weight rank {linear.WeightDims.Length})";
            return null;
        }

        if (linear.Alpha != 1f || linear.InputTransposed)
        {
            why = "Gemm with transA or alpha != 1 is not supported";
            return null;
        }

        return new LayerShape(index, linear);
    }

    /// <summary>
    /// Feeds every input row of the layer to <paramref name="moments"/>: <paramref name="xq"/> is the input the quantized
    /// layer sees, <paramref name="xf"/> the fp32 input (same tensor in parallel mode).
    /// </summary>
    public void Accumulate(DenseTensor xq, DenseTensor xf, Moments moments, CancellationToken cancel)
    {
        const int chunk = 512;
        bool cross = moments.Cross;
        ReadOnlySpan<float> q = xq.AsSpan<float>();
        ReadOnlySpan<float> f = xf.AsSpan<float>();
        var bufQ = new float[(long)chunk * K];
        float[]? bufD = cross ? new float[(long)chunk * K] : null;
        if (!Linear.IsConv)
        {
            if (q.Length % K != 0)
            {
                throw new InvalidOperationException($"{Name}: input of {q.Length} values is not a multiple of {K}.");
            }

            long total = q.Length / K;
            if (total * 2 < K)
            {
                moments.Retain(total);
            }

            for (long start = 0; start < total; start += chunk)
            {
                cancel.ThrowIfCancellationRequested();
                int rows = (int)Math.Min(chunk, total - start);
                q.Slice((int)(start * K), rows * K).CopyTo(bufQ);
                if (bufD is not null)
                {
                    for (int i = 0; i < rows * K; i++)
                    {
                        bufD[i] = q[(int)(start * K) + i] - f[(int)(start * K) + i];
                    }
                }

                moments.Add(0, bufQ, bufD, rows);
            }

            return;
        }

        ConvGeometry geometry = ConvGeometry.For(Linear.Node, Linear.WeightDims, xq.ShapeArray());
        long positions = geometry.Positions;
        float[] bufF = bufD is null ? [] : new float[(long)chunk * K];
        for (int g = 0; g < Groups; g++)
        {
            for (long start = 0; start < positions; start += chunk)
            {
                cancel.ThrowIfCancellationRequested();
                int rows = (int)Math.Min(chunk, positions - start);
                geometry.Patches(q, g, start, rows, bufQ);
                if (bufD is not null)
                {
                    // Padding reads zero in both inputs, so the difference of the patches is the patch of the difference.
                    geometry.Patches(f, g, start, rows, bufF);
                    for (int i = 0; i < rows * K; i++)
                    {
                        bufD[i] = bufQ[i] - bufF[i];
                    }
                }

                moments.Add(g, bufQ, bufD, rows);
            }
        }
    }
}
