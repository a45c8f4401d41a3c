using QuantBuild.Abstractions.Ir;
using QuantBuild.PassKit;

namespace QuantBuild.Plugins.SmoothQuant;

/// <summary>
/// Finds the linears to smooth, groups them by the activation they read, plans where 1/s goes and applies
/// X/s and W·s. Pure graph work on constants: no runtime, no statistics.
/// </summary>
internal static class Smoother
{
    /// <summary>Groups every smoothable linear of <paramref name="view"/> by its activation, in graph order, with a fold plan each.</summary>
    public static List<SmoothingGroup> Plan(GraphIndex view, IReadOnlyCollection<string> opTypes, FoldPolicy policy)
    {
        var ops = new HashSet<string>(opTypes, StringComparer.Ordinal);
        var groups = new List<SmoothingGroup>();
        var byActivation = new Dictionary<string, SmoothingGroup>(StringComparer.Ordinal);
        foreach (Node node in view.Graph.Nodes)
        {
            if (!node.IsDefaultDomain || !ops.Contains(node.OpType) || AsLinear(view, node) is not Linear linear)
            {
                continue;
            }

            string x = node.Inputs[0];
            if (!byActivation.TryGetValue(x, out SmoothingGroup? group))
            {
                group = new SmoothingGroup(x, linear.K, new List<Linear>());
                byActivation[x] = group;
                groups.Add(group);
            }

            if (group.K == linear.K)
            {
                group.Linears.Add(linear);
            }
        }

        foreach (SmoothingGroup group in groups)
        {
            PlanFold(view, group, policy);
        }

        return groups;
    }

    /// <summary>A MatMul or Gemm (transA = 0) that is a PassKit linear layer, as [K,N] storage or transposed [N,K].</summary>
    public static Linear? AsLinear(GraphIndex view, Node node)
    {
        if (node.OpType is not ("MatMul" or "Gemm") || LinearLayer.TryCreate(view, node, out _) is not { InputTransposed: false } layer)
        {
            return null;
        }

        // PassKit's Transposed means [in, out] storage; this record's means [out, in].
        return new Linear(node, layer.Columns, layer.Rows, !layer.Transposed);
    }

    private static void PlanFold(GraphIndex view, SmoothingGroup group, FoldPolicy policy)
    {
        group.FoldActions.Clear();
        if (policy != FoldPolicy.InsertMul && OnlyReadByGroup(view, group))
        {
            var actions = new List<Action<GraphIndex, float[]>>();
            var description = new List<string>();
            if (TryFold(view, group.Activation, group.K, policy, actions, description, 0))
            {
                group.Fold = FoldKind.Producer;
                group.FoldActions.AddRange(actions);
                group.FoldDescription = string.Join(" + ", description);
                return;
            }
        }

        group.Fold = policy == FoldPolicy.FoldOrSkip ? FoldKind.Skipped : FoldKind.InsertedMul;
    }

    /// <summary>X may be changed in place only when nothing but the group's linears (as their X) reads it.</summary>
    private static bool OnlyReadByGroup(GraphIndex view, SmoothingGroup group)
    {
        if (view.IsGraphOutput(group.Activation))
        {
            return false;
        }

        foreach (Node consumer in view.Consumers(group.Activation))
        {
            if (!group.Linears.Exists(l => ReferenceEquals(l.Node, consumer)) || consumer.Inputs.LastIndexOf(group.Activation) != 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool SoleReader(GraphIndex view, string tensor, Node reader) =>
        !view.IsGraphOutput(tensor) && view.Consumers(tensor) is { Count: 1 } c && ReferenceEquals(c[0], reader);

    /// <summary>
    /// Plans dividing <paramref name="tensor"/> by s along its last axis by changing its producer's constants.
    /// The caller has checked that whoever reads <paramref name="tensor"/> expects the change.
    /// </summary>
    private static bool TryFold(GraphIndex view, string tensor, int k, FoldPolicy policy, List<Action<GraphIndex, float[]>> actions, List<string> description, int depth)
    {
        if (depth > 4 || view.Producer(tensor) is not Node p || !p.IsDefaultDomain || p.Outputs.Count == 0 || p.Outputs[0] != tensor)
        {
            return false;
        }

        switch (p.OpType)
        {
            case "LayerNormalization":
            {
                // Scale (and bias) of shape [K] normalise over the last axis only; X = norm * scale + bias.
                if (p.Inputs.Count < 2 || view.FloatConstant(p.Inputs[1], out long[] sd) is not float[] scale || scale.Length != k || sd.Length != 1)
                {
                    return false;
                }

                bool hasBias = p.Inputs.Count > 2 && p.Inputs[2].Length > 0;
                if (hasBias && (view.FloatConstant(p.Inputs[2], out long[] bd) is not float[] bias || bias.Length != k || bd.Length != 1))
                {
                    return false;
                }

                actions.Add((v, s) => DivideConstant(v, p, 1, s));
                if (hasBias)
                {
                    actions.Add((v, s) => DivideConstant(v, p, 2, s));
                }

                description.Add($"LayerNormalization {p.DisplayName} scale{(hasBias ? " and bias" : string.Empty)}");
                return true;
            }

            case "Mul":
            case "Add":
            {
                int c = ConstantOperand(view, p, k, policy == FoldPolicy.NormOnly);
                if (c < 0)
                {
                    return false;
                }

                string other = p.Inputs[1 - c];
                if (p.OpType == "Add")
                {
                    // (a + c)/s = a/s + c/s: a must be divided too, so its producer must fold as well.
                    if (!SoleReader(view, other, p) || !TryFold(view, other, k, policy, actions, description, depth + 1))
                    {
                        return false;
                    }
                }

                actions.Add((v, s) => DivideConstant(v, p, c, s));
                description.Add($"{p.OpType} {p.DisplayName} constant");
                return true;
            }

            case "MatMul" when policy == FoldPolicy.Auto || policy == FoldPolicy.FoldOrSkip:
            {
                if (view.IsConstant(p.Inputs[0]) || view.FloatConstant(p.Inputs[1], out long[] wd) is null || wd.Length != 2 || wd[1] != k)
                {
                    return false;
                }

                actions.Add((v, s) => DivideColumns(v, p, 1, s, transposed: false));
                description.Add($"MatMul {p.DisplayName} weight columns");
                return true;
            }

            case "Gemm" when policy == FoldPolicy.Auto || policy == FoldPolicy.FoldOrSkip:
            {
                if (AsLinear(view, p) is not Linear prev || prev.N != k)
                {
                    return false;
                }

                if (p.Inputs.Count > 2 && p.Inputs[2].Length > 0)
                {
                    if (view.FloatConstant(p.Inputs[2], out long[] cd) is not float[] bias || !PerChannelOrScalar(bias, cd, k))
                    {
                        return false;
                    }

                    actions.Add((v, s) => DivideConstant(v, p, 2, s));
                }

                actions.Add((v, s) => DivideColumns(v, p, 1, s, prev.Transposed));
                description.Add($"Gemm {p.DisplayName} weight and bias");
                return true;
            }

            default:
                return false;
        }
    }

    /// <summary>Index of the operand that is a float constant broadcasting along the last axis only, or −1.</summary>
    private static int ConstantOperand(GraphIndex view, Node p, int k, bool perChannelOnly)
    {
        if (p.Inputs.Count != 2)
        {
            return -1;
        }

        for (int i = 0; i < 2; i++)
        {
            if (view.FloatConstant(p.Inputs[i], out long[] dims) is float[] c && !view.IsConstant(p.Inputs[1 - i])
                && PerChannelOrScalar(c, dims, k) && (!perChannelOnly || c.Length == k))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool PerChannelOrScalar(float[] c, long[] dims, int k)
    {
        if (c.Length == 1)
        {
            return true;
        }

        if (c.Length != k || dims.Length == 0 || dims[^1] != k)
        {
            return false;
        }

        return true;
    }

    /// <summary>Divides the per-channel (or scalar, which becomes per-channel) constant input <paramref name="index"/> by s.</summary>
    private static void DivideConstant(GraphIndex view, Node node, int index, float[] s)
    {
        float[] c = view.FloatConstant(node.Inputs[index], out long[] dims)!;
        int k = s.Length;
        var result = new float[k];
        for (int j = 0; j < k; j++)
        {
            result[j] = (c.Length == 1 ? c[0] : c[j]) / s[j];
        }

        long[] newDims = dims.Length == 0 ? [k] : (long[])dims.Clone();
        newDims[^1] = k;
        view.ReplaceConstantInput(node, index, result, newDims, "smoothed");
    }

    /// <summary>Divides output channel j of a weight by s_j: column j of [M,K], or row j of a transposed [K,M].</summary>
    private static void DivideColumns(GraphIndex view, Node node, int index, float[] s, bool transposed)
    {
        float[] w = view.FloatConstant(node.Inputs[index], out long[] dims)!;
        int rows = (int)dims[0], cols = (int)dims[1];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                w[r * cols + c] /= transposed ? s[r] : s[c];
            }
        }

        view.ReplaceConstantInput(node, index, w, dims, "smoothed");
    }

    /// <summary>Multiplies input channel j (row j of [K,N]) of every weight in the group by s_j.</summary>
    private static void ScaleWeightRows(GraphIndex view, Linear linear, float[] s)
    {
        float[] w = view.FloatConstant(linear.Weight, out long[] dims)!;
        if (linear.Transposed)
        {
            for (int n = 0; n < linear.N; n++)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(w.AsSpan(n * linear.K, linear.K), s, w.AsSpan(n * linear.K, linear.K));
            }
        }
        else
        {
            for (int k = 0; k < linear.K; k++)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(w.AsSpan(k * linear.N, linear.N), s[k], w.AsSpan(k * linear.N, linear.N));
            }
        }

        view.ReplaceConstantInput(linear.Node, 1, w, dims, "smoothed");
    }

    /// <summary>Applies s to one group: X/s (fold or inserted Mul) and W·s. The graph computes the same function afterwards.</summary>
    public static void Apply(GraphIndex view, SmoothingGroup group, float[] s)
    {
        if (group.Fold == FoldKind.Skipped)
        {
            return;
        }

        if (group.Fold == FoldKind.Producer)
        {
            foreach (Action<GraphIndex, float[]> fold in group.FoldActions)
            {
                fold(view, s);
            }
        }
        else
        {
            var inverse = new float[s.Length];
            for (int j = 0; j < s.Length; j++)
            {
                inverse[j] = 1f / s[j];
            }

            string scaleName = view.UniqueName($"{group.Activation}_smooth_inv_scale");
            string output = view.UniqueName($"{group.Activation}_smoothed");
            view.Graph.Initializers.Add(Abstractions.Ir.TensorValue.FromFloats(scaleName, inverse, s.Length));
            var mul = new Node { Name = view.UniqueName($"{group.Activation}_smooth_mul"), OpType = "Mul" };
            mul.Inputs.Add(group.Activation);
            mul.Inputs.Add(scaleName);
            mul.Outputs.Add(output);
            int first = int.MaxValue;
            foreach (Linear linear in group.Linears)
            {
                first = Math.Min(first, view.Graph.Nodes.IndexOf(linear.Node));
                linear.Node.Inputs.Replace(0, output);
            }

            view.Graph.Nodes.Insert(first, mul);
        }

        foreach (Linear linear in group.Linears)
        {
            ScaleWeightRows(view, linear, s);
        }
    }

    /// <summary>
    /// s_j = max|X_j|^alpha / max|W_j|^(1-alpha), 1 where either side is (near) zero, clamped to [1e-5, 1e5].
    /// </summary>
    public static float[] Scales(ReadOnlySpan<float> activationAbsMax, ReadOnlySpan<float> weightAbsMax, double alpha, double minActivation)
    {
        var s = new float[activationAbsMax.Length];
        for (int j = 0; j < s.Length; j++)
        {
            double a = activationAbsMax[j], w = weightAbsMax[j];
            if (!(a > minActivation) || !(w > 1e-12) || !double.IsFinite(a) || !double.IsFinite(w))
            {
                s[j] = 1f;
                continue;
            }

            double value = Math.Pow(a, alpha) / Math.Pow(w, 1 - alpha);
            s[j] = (float)Math.Clamp(value, 1e-5, 1e5);
        }

        return s;
    }
}
