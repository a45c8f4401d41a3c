using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// The new constants of one linear node with a BatchNormalization folded in: weights scaled per output channel by
/// <c>a</c>, and a bias of (b - mean)·a + B (<c>shift</c> already holds B - mean·a). Arithmetic in double, stored fp32.
/// </summary>
internal sealed class LinearFold
{
    /// <summary>Input position, wanted name, value.</summary>
    public List<(int Position, string Name, TensorValue Value)> Constants { get; } = new();

    public List<NodeAttribute> Attributes { get; } = new();

    /// <summary>For MatMul, which has no bias input: the shift to add after it.</summary>
    public TensorValue? AddBias { get; set; }

    /// <summary>Conv weight [M, C/g, k...]; ConvTranspose weight [C, M/g, k...] with output channel g·(M/g) + j.</summary>
    public static string? Conv(Node node, GraphConstants constants, double[] a, double[] shift, out LinearFold? fold)
    {
        fold = null;
        string w = node.Inputs[1];
        if (constants.Floats(w) is not { } weights || constants.Find(w)!.Dims is not { Length: >= 3 } dims)
        {
            return $"the weights of '{node.DisplayName}' are not an fp32 constant";
        }

        long group = node.FindAttribute("group")?.Int ?? 1;
        bool transpose = node.OpType == "ConvTranspose";
        long outChannels = transpose ? dims[1] * group : dims[0];
        if (outChannels != a.Length)
        {
            return $"'{node.DisplayName}' has {outChannels} output channels and the BatchNormalization {a.Length}";
        }

        float[]? bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? constants.Floats(node.Inputs[2]) : new float[a.Length];
        if (bias is null)
        {
            return $"the bias of '{node.DisplayName}' is not an fp32 constant";
        }

        long inner = weights.Length / (dims[0] * dims[1]);
        var scaled = new float[weights.Length];
        for (long i = 0; i < dims[0]; i++)
        {
            for (long j = 0; j < dims[1]; j++)
            {
                long m = transpose ? i / (dims[0] / group) * dims[1] + j : i;
                long start = (i * dims[1] + j) * inner;
                for (long k = start; k < start + inner; k++)
                {
                    scaled[k] = (float)(weights[k] * a[m]);
                }
            }
        }

        fold = new LinearFold();
        fold.Constants.Add((1, w + "_bn", TensorValue.FromFloats(string.Empty, scaled, dims)));
        fold.Constants.Add((2, (node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? node.Inputs[2] : w + "_bias") + "_bn", Bias(bias, 1.0, a, shift)));
        return null;
    }

    /// <summary>Gemm: Y = alpha·A'·B' + beta·C, output columns are the channels; C becomes the folded bias with beta 1.</summary>
    public static string? Gemm(Node node, GraphConstants constants, double[] a, double[] shift, out LinearFold? fold)
    {
        fold = null;
        string b = node.Inputs[1];
        if (constants.Floats(b) is not { } weights || constants.Find(b)!.Dims is not { Length: 2 } dims)
        {
            return $"the weights of '{node.DisplayName}' are not a 2-D fp32 constant";
        }

        bool transB = node.FindAttribute("transB")?.Int == 1;
        long columns = transB ? dims[0] : dims[1];
        if (columns != a.Length)
        {
            return $"'{node.DisplayName}' has {columns} outputs and the BatchNormalization {a.Length} channels";
        }

        bool hasC = node.Inputs.Count > 2 && node.Inputs[2].Length > 0;
        float[]? c = hasC ? constants.Floats(node.Inputs[2]) : new float[a.Length];
        // C must be one value or one per column ([M], [1, M]); a [N, M] C would be a per-row bias BN cannot fold into.
        bool perColumn = !hasC || constants.Find(node.Inputs[2])!.Dims.Take(Math.Max(0, constants.Find(node.Inputs[2])!.Dims.Length - 1)).All(d => d == 1);
        if (c is null || (c.Length != 1 && c.Length != a.Length) || !perColumn)
        {
            return $"the C input of '{node.DisplayName}' is not an fp32 constant of 1 or {a.Length} values";
        }

        float[] bias = c.Length == a.Length ? c : Enumerable.Repeat(c[0], a.Length).ToArray();
        double beta = node.FindAttribute("beta")?.Float ?? 1f;
        fold = new LinearFold();
        fold.Constants.Add((1, b + "_bn", TensorValue.FromFloats(string.Empty, ScaleColumns(weights, dims, transB, a), dims)));
        fold.Constants.Add((2, b + "_bn_bias", Bias(bias, beta, a, shift)));
        fold.Attributes.Add(NodeAttribute.FromFloat("beta", 1f));
        return null;
    }

    /// <summary>MatMul with a constant [K, M] weight and a 2-D input: BN's channel axis 1 is then the MatMul's M.</summary>
    public static string? MatMul(Node node, GraphConstants constants, ValueFacts facts, double[] a, double[] shift, out LinearFold? fold)
    {
        fold = null;
        string b = node.Inputs[1];
        if (constants.Floats(b) is not { } weights || constants.Find(b)!.Dims is not { Length: 2 } dims)
        {
            return $"the weights of '{node.DisplayName}' are not a 2-D fp32 constant";
        }

        if (facts.RankOf(node.Inputs[0]) != 2)
        {
            return $"the input of '{node.DisplayName}' is not known to be 2-D, so BatchNormalization's channel axis may not be its output axis";
        }

        if (dims[1] != a.Length)
        {
            return $"'{node.DisplayName}' has {dims[1]} outputs and the BatchNormalization {a.Length} channels";
        }

        fold = new LinearFold { AddBias = Bias(new float[a.Length], 1.0, a, shift) };
        fold.Constants.Add((1, b + "_bn", TensorValue.FromFloats(string.Empty, ScaleColumns(weights, dims, false, a), dims)));
        return null;
    }

    private static float[] ScaleColumns(float[] weights, long[] dims, bool transposed, double[] a)
    {
        var scaled = new float[weights.Length];
        for (long r = 0; r < dims[0]; r++)
        {
            for (long c = 0; c < dims[1]; c++)
            {
                long i = r * dims[1] + c;
                scaled[i] = (float)(weights[i] * a[transposed ? r : c]);
            }
        }

        return scaled;
    }

    private static TensorValue Bias(float[] bias, double beta, double[] a, double[] shift)
    {
        var folded = new float[a.Length];
        for (int m = 0; m < a.Length; m++)
        {
            folded[m] = (float)(beta * bias[m] * a[m] + shift[m]);
        }

        return TensorValue.FromFloats(string.Empty, folded, a.Length);
    }
}
