using QuantBuild.Abstractions.Ir;
using QuantBuild.PassKit;

namespace QuantBuild.Plugins.SmoothQuant;

/// <summary>One linear layer: a MatMul or Gemm whose weight is a float constant, reading activation X.</summary>
/// <param name="Node">The MatMul or Gemm.</param>
/// <param name="K">Input channels (X's last axis).</param>
/// <param name="N">Output channels.</param>
/// <param name="Transposed">True when the weight is stored [N,K] (Gemm with transB = 1).</param>
internal sealed record Linear(Node Node, int K, int N, bool Transposed)
{
    public string Weight => Node.Inputs[1];

    /// <summary>The weight as [K,N] row-major, whatever its storage.</summary>
    public float[] WeightKn(GraphIndex view)
    {
        float[] w = view.FloatConstant(Weight, out _) ?? throw new InvalidOperationException($"{Node.DisplayName}: weight '{Weight}' is no longer a float constant.");
        if (!Transposed)
        {
            return w;
        }

        var kn = new float[w.Length];
        for (int n = 0; n < N; n++)
        {
            for (int k = 0; k < K; k++)
            {
                kn[k * N + n] = w[n * K + k];
            }
        }

        return kn;
    }
}

/// <summary>How 1/s reaches the activation.</summary>
internal enum FoldKind
{
    /// <summary>Folded into the producer's constants (see <see cref="SmoothingGroup.FoldDescription"/>).</summary>
    Producer,

    /// <summary>A Mul by 1/s inserted between the activation and the linears.</summary>
    InsertedMul,

    /// <summary>Left alone (fold policy <c>fold_or_skip</c> and no producer to fold into).</summary>
    Skipped,
}

/// <summary>The linears reading one activation: they share one smoothing vector s.</summary>
internal sealed class SmoothingGroup
{
    public SmoothingGroup(string activation, int k, List<Linear> linears)
    {
        Activation = activation;
        K = k;
        Linears = linears;
    }

    /// <summary>The activation tensor X all <see cref="Linears"/> read as their first input.</summary>
    public string Activation { get; }

    /// <summary>Channels of X's last axis.</summary>
    public int K { get; }

    public List<Linear> Linears { get; }

    public FoldKind Fold { get; set; }

    /// <summary>The producer constants 1/s is folded into, for the log.</summary>
    public string FoldDescription { get; set; } = string.Empty;

    /// <summary>Applies X/s when <see cref="Fold"/> is <see cref="FoldKind.Producer"/>; set by the planner.</summary>
    public List<Action<GraphIndex, float[]>> FoldActions { get; } = new();

    /// <summary>Per-channel max |W_j| over every weight in the group (row j of each [K,N] weight).</summary>
    public float[] WeightAbsMax(GraphIndex view)
    {
        var max = new float[K];
        foreach (Linear linear in Linears)
        {
            float[] w = linear.WeightKn(view);
            for (int k = 0; k < K; k++)
            {
                float m = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(w.AsSpan(k * linear.N, linear.N));
                max[k] = MathF.Max(max[k], MathF.Abs(m));
            }
        }

        return max;
    }

    public string Describe() =>
        $"{string.Join("/", Linears.Select(l => l.Node.DisplayName))} reading '{Activation}' (K={K}, " +
        (Fold switch
        {
            FoldKind.Producer => $"folded into {FoldDescription}",
            FoldKind.InsertedMul => "inserted Mul",
            _ => "skipped: nothing to fold into",
        }) + ")";
}
