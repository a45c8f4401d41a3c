using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Plugins.Nupes;

/// <summary>
/// One weight in the NUPES file format: packed code planes over the [channels, groups, group size] code array, the
/// layer's 2^b-entry lookup table (the grid sign(q)·|q/qmax|^(1/a)) and one float scale per (channel, group). The
/// decoded weight is lut[code] · scale (one float multiply), sliced to the row length, reshaped to the weight's
/// shape (or transposed back for [in, out] weights). <see cref="Decode"/> is the reference; <see cref="BuildGraph"/>
/// emits the same computation as ONNX ops with constant inputs only, which ONNX Runtime folds once at load.
/// </summary>
internal sealed record EncodedWeight(
    string Name, int Bits, double Exponent, float[] Lut, float[] Scales, int Channels, int Groups, int GroupSize, int Length,
    long[] Dims, bool Transposed, byte[][] Planes)
{
    /// <summary>Codes stored (channels × groups × group size, padding included).</summary>
    public int CodeCount => Channels * Groups * GroupSize;

    /// <summary>Bytes of the tensors this encoding stores (planes, table, scales); shape constants are a few bytes more.</summary>
    public long PayloadBytes
    {
        get
        {
            long total = (Lut.Length + Scales.Length) * 4L;
            foreach (byte[] plane in Planes)
            {
                total += plane.Length;
            }

            return total;
        }
    }

    public static EncodedWeight From(string name, LayerMatrix m, LayerQuantization q, long[] dims, bool transposed) =>
        new(name, q.Bits, q.Exponent, q.Lut, m.Scales, m.Channels, m.Groups, m.GroupSize, m.Length, dims, transposed, BitPlanes.Pack(q.Codes, q.Bits));

    /// <summary>The weight exactly as the decode subgraph computes it, in the weight's own layout.</summary>
    public float[] Decode()
    {
        int[] codes = BitPlanes.Unpack(Planes, Bits, CodeCount);
        int padded = Groups * GroupSize;
        var weight = new float[Channels * Length];
        for (int c = 0; c < Channels; c++)
        {
            for (int r = 0; r < Length; r++)
            {
                float v = NupesGrid.Decode(codes[c * padded + r], Lut, Scales[c * Groups + r / GroupSize]);
                weight[Transposed ? r * Channels + c : c * Length + r] = v;
            }
        }

        return weight;
    }

    /// <summary>
    /// The decode subgraph: nodes (in order) producing <see cref="Name"/>, and the constants they read, named
    /// <paramref name="prefix"/>.* (short: on a small model the graph's names are a visible part of the file).
    /// </summary>
    public (List<Node> Nodes, List<TensorValue> Initializers) BuildGraph(string? prefix = null)
    {
        var nodes = new List<Node>();
        var constants = new List<TensorValue>();
        string p = prefix ?? Name + ".nupes";
        int serial = 0;
        string Op(string opType, string[] inputs, params NodeAttribute[] attributes)
        {
            string output = $"{p}.t{serial++}";
            var node = new Node { OpType = opType };
            node.Inputs.AddRange(inputs);
            node.Outputs.Add(output);
            node.Attributes.AddRange(attributes);
            nodes.Add(node);
            return output;
        }

        string Const<T>(string suffix, ElementType type, T[] values, params long[] dims) where T : unmanaged
        {
            string name = $"{p}.{suffix}";
            constants.Add(new TensorValue { Name = name, ElementType = type, Dims = dims, Data = MemoryMarshal.AsBytes(values.AsSpan()).ToArray() });
            return name;
        }

        int count = CodeCount;
        IReadOnlyList<(int Width, int Offset)> layout = BitPlanes.Layout(Bits);
        string? codes = null;
        for (int i = 0; i < layout.Count; i++)
        {
            (int width, int offset) = layout[i];
            string plane = Const($"codes{width}b", ElementType.UInt8, Planes[i], Planes[i].Length);
            string fields;
            if (width == 8)
            {
                fields = plane;
            }
            else
            {
                int perByte = 8 / width;
                var left = new byte[perByte];
                for (int j = 0; j < perByte; j++)
                {
                    left[j] = (byte)(8 - width - j * width);
                }

                string column = Op("Reshape", [plane, Const($"col{width}", ElementType.Int64, new long[] { -1, 1 }, 2)]);
                string shifted = Op("BitShift", [column, Const($"shl{width}", ElementType.UInt8, left, perByte)], NodeAttribute.FromString("direction", "LEFT"));
                string field = Op("BitShift", [shifted, Const($"shr{width}", ElementType.UInt8, new[] { (byte)(8 - width) }, 1)], NodeAttribute.FromString("direction", "RIGHT"));
                fields = Op("Reshape", [field, Const($"flat{width}", ElementType.Int64, new long[] { -1 }, 1)]);
                if ((long)Planes[i].Length * perByte != count)
                {
                    fields = Op("Slice", [fields, Const($"start{width}", ElementType.Int64, new long[] { 0 }, 1),
                        Const($"end{width}", ElementType.Int64, new long[] { count }, 1), Const($"axis{width}", ElementType.Int64, new long[] { 0 }, 1)]);
                }
            }

            string part = Op("Cast", [fields], NodeAttribute.FromInt("to", (long)ElementType.Int32));
            if (offset > 0)
            {
                part = Op("Mul", [part, Const($"place{width}", ElementType.Int32, new[] { 1 << offset })]);
            }

            codes = codes is null ? part : Op("Add", [codes, part]);
        }

        string index = Op("Reshape", [codes!, Const("grouped", ElementType.Int64, new long[] { Channels, Groups, GroupSize }, 3)]);
        string values = Op("Gather", [Const("lut", ElementType.Float, Lut, Lut.Length), index], NodeAttribute.FromInt("axis", 0));
        string scaled = Op("Mul", [values, Const("scales", ElementType.Float, Scales, Channels, Groups, 1)]);
        string rows = Op("Reshape", [scaled, Const("rows", ElementType.Int64, new long[] { Channels, Groups * GroupSize }, 2)]);
        if (Groups * GroupSize != Length)
        {
            rows = Op("Slice", [rows, Const("row_start", ElementType.Int64, new long[] { 0 }, 1), Const("row_end", ElementType.Int64, new long[] { Length }, 1),
                Const("row_axis", ElementType.Int64, new long[] { 1 }, 1)]);
        }

        string last = Transposed
            ? Op("Transpose", [rows], NodeAttribute.FromInts("perm", 1, 0))
            : Op("Reshape", [rows, Const("shape", ElementType.Int64, Dims, Dims.Length)]);
        nodes[^1].Outputs.Replace(0, Name);
        _ = last;
        return (nodes, constants);
    }
}
