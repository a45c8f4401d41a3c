using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;

namespace QuantBuild.PassKit;

/// <summary>
/// A Conv, Gemm or MatMul whose weight is a float constant (initializer or Constant node), seen as a matrix of
/// <see cref="Rows"/> output channels by <see cref="Columns"/> inputs: Conv [M, C/g, k…] as [M, C/g·k…] (im2col order
/// c, ky, kx), Gemm transB=1 [N, K] as is, and MatMul and Gemm transB=0 [K, N] read transposed. This is the one
/// answer to "which nodes are linear layers and on which axis are their output channels".
/// </summary>
public sealed class LinearLayer
{
    private LinearLayer(Node node, ConstantKind kind, long[] dims, int rows, int columns, bool transposed, int groups)
    {
        Node = node;
        WeightKind = kind;
        WeightDims = dims;
        Rows = rows;
        Columns = columns;
        Transposed = transposed;
        Groups = groups;
    }

    /// <summary>The op types that can be linear layers.</summary>
    public static IReadOnlyList<string> OpTypes { get; } = ["Conv", "Gemm", "MatMul"];

    /// <summary>The Conv, Gemm or MatMul node.</summary>
    public Node Node { get; }

    /// <summary>A name for messages: the node's name, else its op type and output.</summary>
    public string Name => Node.DisplayName;

    /// <summary>The weight tensor's name (input 1, as it is now), the key of its <c>WeightEncoding</c>.</summary>
    public string WeightName => Node.Inputs[1];

    /// <summary>Where the weight lived when the view was made.</summary>
    public ConstantKind WeightKind { get; }

    /// <summary>The weight's dims as stored.</summary>
    public long[] WeightDims { get; }

    /// <summary>The activation the layer multiplies (input 0).</summary>
    public string Input => Node.Inputs[0];

    /// <summary>Output channels.</summary>
    public int Rows { get; }

    /// <summary>Inputs per output channel (Conv: C/group · kernel elements).</summary>
    public int Columns { get; }

    /// <summary>True when the weight is stored [in, out] (MatMul, Gemm transB=0): an output channel is a column.</summary>
    public bool Transposed { get; }

    /// <summary>Conv groups (rows g·Rows/Groups … belong to group g); 1 otherwise.</summary>
    public int Groups { get; }

    /// <summary>True for a Conv.</summary>
    public bool IsConv => Node.OpType == "Conv";

    /// <summary>The weight's axis of output channels: where per-channel scales go.</summary>
    public int OutputAxis => Transposed ? 1 : 0;

    /// <summary>The bias input's name (Conv input 2, Gemm C), or null when there is none.</summary>
    public string? BiasName => !IsMatMul && Node.Inputs.Count > 2 && Node.Inputs[2].Length > 0 ? Node.Inputs[2] : null;

    /// <summary>True when the op can take a bias (Conv, Gemm).</summary>
    public bool CanHaveBias => !IsMatMul;

    /// <summary>Gemm's alpha (1 for other ops).</summary>
    public float Alpha => Node.OpType == "Gemm" ? Node.FindAttribute("alpha")?.Float ?? 1f : 1f;

    /// <summary>Gemm's beta, which scales the bias (1 for other ops).</summary>
    public float Beta => Node.OpType == "Gemm" ? Node.FindAttribute("beta")?.Float ?? 1f : 1f;

    /// <summary>
    /// True for a Gemm with transA = 1: its input is [K, batch], so the input's rows are not the vectors the weight
    /// multiplies. Passes that work on input rows (im2col, second moments) leave such a layer alone.
    /// </summary>
    public bool InputTransposed => Node.OpType == "Gemm" && (Node.FindAttribute("transA")?.Int ?? 0) != 0;

    private bool IsMatMul => Node.OpType == "MatMul";

    /// <summary>The group of output channel <paramref name="row"/>.</summary>
    public int GroupOf(int row) => row / (Rows / Groups);

    /// <summary>The flat index in the stored weight of output channel <paramref name="row"/>, input <paramref name="column"/>.</summary>
    public long Index(int row, int column) => Transposed ? (long)column * Rows + row : (long)row * Columns + column;

    /// <summary>The weight as [Rows, Columns] row-major (a copy).</summary>
    public float[] ReadMatrix(GraphIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        ReadOnlySpan<float> w = Stored(index);
        var m = new float[(long)Rows * Columns];
        if (!Transposed)
        {
            w.CopyTo(m);
            return m;
        }

        for (int o = 0; o < Rows; o++)
        {
            for (int j = 0; j < Columns; j++)
            {
                m[(long)o * Columns + j] = w[(int)Index(o, j)];
            }
        }

        return m;
    }

    /// <summary>
    /// Writes <paramref name="matrix"/> ([Rows, Columns]) back as the weight in its stored layout. When other nodes read
    /// the same constant, this node gets a fresh initializer (suffix <paramref name="suffix"/>) and theirs is untouched;
    /// otherwise the constant keeps its name and place (initializer or Constant node).
    /// </summary>
    public void WriteMatrix(GraphIndex index, ReadOnlySpan<float> matrix, string suffix)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (matrix.Length != (long)Rows * Columns)
        {
            throw new ArgumentException($"{Name}: {matrix.Length} values for a {Rows}×{Columns} weight.", nameof(matrix));
        }

        var stored = new float[matrix.Length];
        for (int o = 0; o < Rows; o++)
        {
            for (int j = 0; j < Columns; j++)
            {
                stored[Index(o, j)] = matrix[o * Columns + j];
            }
        }

        string current = Node.Inputs[1];
        if (index.UseCount(current) > 1 || index.IsGraphOutput(current))
        {
            index.ReplaceConstantInput(Node, 1, stored, WeightDims, suffix);
        }
        else
        {
            index.SetConstant(current, TensorValue.FromFloats(current, stored, WeightDims));
        }
    }

    /// <summary>Every linear layer of the indexed graph, in graph order, among <paramref name="opTypes"/> (all when null).</summary>
    public static List<LinearLayer> FindAll(GraphIndex index, IReadOnlyCollection<string>? opTypes = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        var layers = new List<LinearLayer>();
        foreach (Node node in index.Graph.Nodes)
        {
            if ((opTypes is null || opTypes.Contains(node.OpType)) && TryCreate(index, node, out _) is { } layer)
            {
                layers.Add(layer);
            }
        }

        return layers;
    }

    /// <summary>
    /// The linear layer <paramref name="node"/> is, or null with <paramref name="why"/> saying why not (for the log).
    /// Requires a default-domain Conv (weight rank 3 or more), Gemm (rank-2 B; see <see cref="InputTransposed"/>) or MatMul (rank-2 B), a
    /// float constant weight in memory and a non-constant input.
    /// </summary>
    public static LinearLayer? TryCreate(GraphIndex index, Node node, out string? why)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(node);
        why = null;
        if (!node.IsDefaultDomain || node.OpType is not ("Conv" or "Gemm" or "MatMul") || node.Inputs.Count < 2)
        {
            why = $"{node.OpType} is not a linear layer";
            return null;
        }

        string weight = node.Inputs[1];
        if (!index.IsFloatConstant(weight))
        {
            why = $"weight '{weight}' is not a float constant";
            return null;
        }

        if (index.IsConstant(node.Inputs[0]))
        {
            why = "its input is a constant, not an activation";
            return null;
        }

        ConstantKind kind = index.KindOf(weight)!.Value;
        long[] dims = index.Constant(weight)!.Dims;
        if (node.OpType == "Conv")
        {
            if (dims.Length < 3)
            {
                why = $"conv weight rank {dims.Length}";
                return null;
            }

            long columns = 1;
            for (int d = 1; d < dims.Length; d++)
            {
                columns *= dims[d];
            }

            int groups = (int)(node.FindAttribute("group")?.Int ?? 1);
            if (groups < 1 || dims[0] % groups != 0)
            {
                why = $"group {groups} does not divide {dims[0]} output channels";
                return null;
            }

            return new LinearLayer(node, kind, dims, (int)dims[0], (int)columns, false, groups);
        }

        if (dims.Length != 2)
        {
            why = $"weight rank {dims.Length}; only 2-D {node.OpType} weights are linear layers";
            return null;
        }

        if (node.OpType == "Gemm")
        {
            if ((node.FindAttribute("transB")?.Int ?? 0) != 0)
            {
                return new LinearLayer(node, kind, dims, (int)dims[0], (int)dims[1], false, 1);
            }
        }

        return new LinearLayer(node, kind, dims, (int)dims[1], (int)dims[0], true, 1);
    }

    private ReadOnlySpan<float> Stored(GraphIndex index)
    {
        if (index.Constant(Node.Inputs[1]) is not { } value || !index.IsFloatConstant(Node.Inputs[1]))
        {
            throw new InvalidOperationException($"{Name}: weight '{Node.Inputs[1]}' is no longer a float constant.");
        }

        return MemoryMarshal.Cast<byte, float>(value.Data.Span);
    }
}
