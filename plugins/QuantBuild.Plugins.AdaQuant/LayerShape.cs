using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// One Conv, Gemm or MatMul with a constant float weight, seen as a matrix: <see cref="Rows"/> output channels of
/// <see cref="K"/> inputs each (Conv: Cin/group·kh·kw, im2col order c, ky, kx), plus how its input activation turns
/// into rows of K values.
/// </summary>
internal sealed class LayerShape
{
    private int[] _strides = [1, 1], _pads = [0, 0, 0, 0], _dilations = [1, 1];

    private LayerShape(Node node, TensorValue weight, int rows, int k, int groups)
    {
        Node = node;
        Weight = weight;
        Rows = rows;
        K = k;
        Groups = groups;
    }

    public Node Node { get; }

    public TensorValue Weight { get; }

    public string Name => Node.Name is { Length: > 0 } n ? n : Node.Outputs.FirstOrDefault() ?? Node.OpType;

    public int Rows { get; }

    public int K { get; }

    /// <summary>Conv groups (rows g·Rows/Groups … belong to group g); 1 otherwise.</summary>
    public int Groups { get; }

    /// <summary>[out, in] layouts (Conv, Gemm transB=1) keep rows contiguous; [in, out] (MatMul, Gemm transB=0) keep columns.</summary>
    public bool Transposed { get; private set; }

    /// <summary>The weight's axis of output channels (per-channel scales).</summary>
    public int OutputAxis => Node.OpType == "Conv" || !Transposed ? 0 : 1;

    /// <summary>The bias initializer, when the op takes one (Conv input 2, Gemm C of shape [Rows]).</summary>
    public string? BiasName => Node.OpType is "Conv" or "Gemm" && Node.Inputs.Count > 2 && Node.Inputs[2].Length > 0 ? Node.Inputs[2] : null;

    public bool CanHaveBias => Node.OpType is "Conv" or "Gemm";

    public int Group(int row) => row / (Rows / Groups);

    /// <summary>The flat index in the weight tensor of row <paramref name="row"/>, input <paramref name="j"/>.</summary>
    public long Index(int row, int j) => Transposed ? (long)j * Rows + row : (long)row * K + j;

    /// <summary>The weight as [Rows, K] row-major.</summary>
    public float[] Matrix()
    {
        ReadOnlySpan<float> w = Weight.AsReadOnlySpan<float>();
        var m = new float[(long)Rows * K];
        for (int o = 0; o < Rows; o++)
        {
            for (int j = 0; j < K; j++)
            {
                m[(long)o * K + j] = w[(int)Index(o, j)];
            }
        }

        return m;
    }

    /// <summary>Reads the layer of <paramref name="node"/>, or says why it cannot be optimised.</summary>
    public static LayerShape? TryCreate(Node node, TensorValue weight, out string? why)
    {
        why = null;
        long[] dims = weight.Dims;
        if (node.OpType == "Conv")
        {
            string? autoPad = node.FindAttribute("auto_pad")?.StringValue;
            if (dims.Length != 4 || autoPad is not (null or "" or "NOTSET" or "VALID"))
            {
                why = dims.Length != 4 ? $"only 2-D convolutions are optimised (weight rank {dims.Length})" : $"auto_pad {autoPad} is not supported";
                return null;
            }

            int groups = (int)(node.FindAttribute("group")?.Int ?? 1);
            var shape = new LayerShape(node, weight, (int)dims[0], (int)(dims[1] * dims[2] * dims[3]), groups);
            shape._strides = Ints(node, "strides", 2, 1);
            shape._pads = autoPad == "VALID" ? [0, 0, 0, 0] : Ints(node, "pads", 4, 0);
            shape._dilations = Ints(node, "dilations", 2, 1);
            return shape;
        }

        if (dims.Length != 2)
        {
            why = $"weight rank {dims.Length}; only 2-D {node.OpType} weights are optimised";
            return null;
        }

        if (node.OpType == "Gemm")
        {
            if ((node.FindAttribute("transA")?.Int ?? 0) != 0 || (node.FindAttribute("alpha")?.Float ?? 1f) != 1f)
            {
                why = "Gemm with transA or alpha != 1 is not supported";
                return null;
            }

            bool transB = (node.FindAttribute("transB")?.Int ?? 0) == 1;
            return transB
                ? new LayerShape(node, weight, (int)dims[0], (int)dims[1], 1)
                : new LayerShape(node, weight, (int)dims[1], (int)dims[0], 1) { Transposed = true };
        }

        return new LayerShape(node, weight, (int)dims[1], (int)dims[0], 1) { Transposed = true };
    }

    private static int[] Ints(Node node, string name, int count, int fill)
    {
        NodeAttribute? a = node.FindAttribute(name);
        return a is null || a.Ints.Count == 0 ? Enumerable.Repeat(fill, count).ToArray() : a.Ints.Select(v => (int)v).ToArray();
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
        if (Node.OpType != "Conv")
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

        long[] s = xq.ShapeArray();
        if (s.Length != 4)
        {
            throw new InvalidOperationException($"{Name}: conv input has rank {s.Length}, expected 4.");
        }

        int n = (int)s[0], c = (int)s[1], h = (int)s[2], w = (int)s[3];
        long[] wd = Weight.Dims;
        int cg = (int)wd[1], kh = (int)wd[2], kw = (int)wd[3];
        int oh = (h + _pads[0] + _pads[2] - (_dilations[0] * (kh - 1) + 1)) / _strides[0] + 1;
        int ow = (w + _pads[1] + _pads[3] - (_dilations[1] * (kw - 1) + 1)) / _strides[1] + 1;
        if (cg * Groups != c)
        {
            throw new InvalidOperationException($"{Name}: input has {c} channels, weight expects {cg}×{Groups}.");
        }

        long positions = (long)n * oh * ow;
        for (int g = 0; g < Groups; g++)
        {
            for (long start = 0; start < positions; start += chunk)
            {
                cancel.ThrowIfCancellationRequested();
                int rows = (int)Math.Min(chunk, positions - start);
                for (int r = 0; r < rows; r++)
                {
                    long p = start + r;
                    int sample = (int)(p / (oh * ow));
                    int rest = (int)(p % (oh * ow));
                    int oy = rest / ow, ox = rest % ow;
                    int o = r * K;
                    for (int ci = 0; ci < cg; ci++)
                    {
                        long plane = ((long)sample * c + g * cg + ci) * h * w;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = oy * _strides[0] - _pads[0] + ky * _dilations[0];
                            for (int kx = 0; kx < kw; kx++, o++)
                            {
                                int ix = ox * _strides[1] - _pads[1] + kx * _dilations[1];
                                bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                                float vq = inside ? q[(int)(plane + (long)iy * w + ix)] : 0f;
                                bufQ[o] = vq;
                                if (bufD is not null)
                                {
                                    bufD[o] = inside ? vq - f[(int)(plane + (long)iy * w + ix)] : 0f;
                                }
                            }
                        }
                    }
                }

                moments.Add(g, bufQ, bufD, rows);
            }
        }
    }
}
