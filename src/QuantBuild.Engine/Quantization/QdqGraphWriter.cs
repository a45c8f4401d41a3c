using System.Buffers.Binary;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization.Operators;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Writes the QDQ version of one graph (the main graph or an If branch): walks the original nodes in order and emits each one with DequantizeLinear in front
/// of its quantized inputs and QuantizeLinear → DequantizeLinear behind its quantized outputs. Names derive from
/// the tensor they quantize (<c>t_quantized</c>, <c>t_scale</c>...), so the output is the same on every run.
/// </summary>
internal sealed class QdqGraphWriter
{
    private readonly GraphIndex _index;
    private readonly EncodeOptions _options;
    private readonly NodeMode[] _modes;
    private readonly IReadOnlyDictionary<string, ActivationEncoding> _encodings;
    private readonly Graph _target;
    private readonly NameTable _names;
    private readonly GraphOps _ops;
    private readonly Dictionary<string, string> _dequantized = new(StringComparer.Ordinal);
    private readonly HashSet<string> _quantizedAfterProducer = new(StringComparer.Ordinal);
    private readonly HashSet<string> _replacedWeights = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _storedInt8 = new(StringComparer.Ordinal);
    private readonly List<Node> _nodes = new();

    /// <param name="names">The model-wide name table, shared by the writers of the main graph and its If branches; null for a new one.</param>
    public QdqGraphWriter(GraphIndex index, EncodeOptions options, NodeMode[] modes, IReadOnlyDictionary<string, ActivationEncoding> encodings, Graph target,
        NameTable? names = null)
    {
        _index = index;
        _options = options;
        _modes = modes;
        _encodings = encodings;
        _target = target;
        _names = names ?? new NameTable(index.Graph);
        _ops = new GraphOps(options.Operators, index);
    }

    /// <summary>Rewrites the target graph's nodes and initializers; returns the quantized layers in graph order.</summary>
    public List<QuantizedLayer> Write()
    {
        var layers = new List<QuantizedLayer>();
        IrList<Node> source = _index.Graph.Nodes;
        for (int i = 0; i < source.Count; i++)
        {
            Node node = source[i];
            Node clone = ModelCopy.Clone(node);
            RewireToDequantized(clone);
            switch (_modes[i])
            {
                case NodeMode.Integer:
                    WriteInteger(node, clone);
                    layers.Add(Layer(node));
                    break;
                case NodeMode.DynamicInteger when DynamicBiasFold.Of(_index, _modes, i) is { } fold:
                    // The Add after it is gone: its output is this node's, in both models.
                    clone.Outputs.Replace(0, fold.Output);
                    _nodes.Add(WriteDynamicMatMul(node, clone, fold.Bias));
                    layers.Add(Layer(node) with { Fp32Tensor = fold.Output, QuantizedTensor = fold.Output, Dynamic = true });
                    break;
                case NodeMode.DynamicInteger:
                    _nodes.Add(node.OpType == "LSTM" ? WriteDynamicLstm(node, clone) : WriteDynamicMatMul(node, clone, null));
                    layers.Add(Layer(node) with { Dynamic = true });
                    break;
                case NodeMode.FoldedIntoProducer:
                    break;
                case NodeMode.WeightOnly4:
                    _nodes.Add(WriteFourBit(node, clone));
                    layers.Add(Layer(node));
                    break;
                case NodeMode.StoredInt8:
                    _nodes.Add(WriteStoredInt8(node, clone));
                    layers.Add(Layer(node) with { StoredOnly = true });
                    break;
                default:
                    _nodes.Add(clone);
                    break;
            }
        }

        _target.Nodes.Clear();
        _target.Nodes.AddRange(_nodes);
        DropReplacedWeights();
        return layers;
    }

    private void WriteInteger(Node node, Node clone)
    {
        foreach (int position in _ops.ActivationInputs(node))
        {
            clone.Inputs.Replace(position, Dequantized(node.Inputs[position]));
        }

        if (_ops.Weight(node) is { } at)
        {
            (string dq, QuantizedWeight weight) = WriteWeight(node);
            clone.Inputs.Replace(at.Input, dq);
            if (at.Bias is { } b && node.Inputs.Count > b && node.Inputs[b].Length > 0)
            {
                clone.Inputs.Replace(b, WriteBias(node, weight));
            }
        }

        _nodes.Add(clone);
        for (int o = 0; o < _ops.DataOutputCount(node); o++)
        {
            string output = node.Outputs[o];
            if (output.Length == 0 || _index.IsGraphOutput(output) || !_encodings.TryGetValue(output, out ActivationEncoding? encoding))
            {
                continue;
            }

            // Gemm and MatMul fuse without an output Q (QGemm / MatMulIntegerToFloat with float output); Conv does not.
            if (_ops.FusesWithoutOutputQuantize(node) && !FeedsIntegerNode(output))
            {
                continue;
            }

            WriteQuantizeDequantize(output, encoding);
            _quantizedAfterProducer.Add(output);
        }
    }

    // DynamicQuantizeLSTM reads W as [directions, input, 4·hidden] and R as [directions, hidden, 4·hidden] int8, the
    // transpose of LSTM's, with one symmetric scale per gate row and direction.
    private Node WriteDynamicLstm(Node node, Node clone)
    {
        var quantized = new Node { Name = clone.Name, OpType = "DynamicQuantizeLSTM", Domain = "com.microsoft", DocString = clone.DocString };
        quantized.Attributes.AddRange(clone.Attributes);
        quantized.Outputs.AddRange(clone.Outputs);
        var parameters = new List<string>();
        quantized.Inputs.Add(clone.Inputs[0]);
        for (int i = 1; i <= 2; i++)
        {
            string name = clone.Inputs[i];
            TensorValue w = _index.Constant(name)!;
            long directions = w.Dims[0], rows = w.Dims[1], columns = w.Dims[2];
            QuantizedWeight q = RecurrentWeights.Rows(node, name, w, _options);
            var transposed = new byte[q.Codes.Length];
            for (long d = 0; d < directions; d++)
            {
                for (long r = 0; r < rows; r++)
                {
                    for (long c = 0; c < columns; c++)
                    {
                        transposed[(d * columns + c) * rows + r] = q.Codes[(d * rows + r) * columns + c];
                    }
                }
            }

            _replacedWeights.Add(name);
            quantized.Inputs.Add(AddInitializer(name + "_quantized", ElementType.Int8, new[] { directions, columns, rows }, transposed));
            parameters.Add(AddInitializer(name + "_scale", ElementType.Float, new[] { directions, rows }, FloatBytes(q.Scales)));
            parameters.Add(AddInitializer(name + "_zero_point", ElementType.Int8, new[] { directions, rows }, new byte[q.Scales.Length]));
        }

        for (int i = 3; i <= 7; i++)
        {
            quantized.Inputs.Add(i < clone.Inputs.Count ? clone.Inputs[i] : string.Empty);
        }

        quantized.Inputs.AddRange(parameters);
        return quantized;
    }

    // GRU/RNN: W and R stored int8 with one symmetric scale per gate row and direction, expanded by Cast → Mul. Not
    // DequantizeLinear: ONNX Runtime keeps a DequantizeLinear of a constant in the graph (for QDQ fusion) and runs it on
    // every call, measured 1.02-1.27x the fp32 GRU; Cast and Mul of constants it folds once at load, so the GRU runs
    // exactly as fast as fp32 on the rounded weights (docs/benchmarks.md, "GRU and RNN").
    private Node WriteStoredInt8(Node node, Node clone)
    {
        for (int i = 1; i <= 2; i++)
        {
            string name = clone.Inputs[i];
            if (!_storedInt8.TryGetValue(name, out string? expanded))
            {
                TensorValue w = _index.Constant(name)!;
                long directions = w.Dims[0], rows = w.Dims[1];
                QuantizedWeight q = RecurrentWeights.Rows(node, name, w, _options);
                Onnx.MappedWeights.Release(w.Data);
                _replacedWeights.Add(name);
                string codes = AddInitializer(name + "_quantized", ElementType.Int8, w.Dims, q.Codes);
                string scale = AddInitializer(name + "_scale", ElementType.Float, new[] { directions, rows, 1L }, FloatBytes(q.Scales));
                var cast = new Node { Name = _names.Take(name + "_Cast"), OpType = "Cast" };
                cast.Inputs.Add(codes);
                cast.Outputs.Add(_names.Take(name + "_codes"));
                cast.Attributes.Add(NodeAttribute.FromInt("to", (long)ElementType.Float));
                var mul = new Node { Name = _names.Take(name + "_Mul"), OpType = "Mul" };
                mul.Inputs.AddRange(new[] { cast.Outputs[0], scale });
                expanded = _names.Take(name + "_dequantized");
                mul.Outputs.Add(expanded);
                _nodes.Add(cast);
                _nodes.Add(mul);
                _storedInt8[name] = expanded;
            }

            clone.Inputs.Replace(i, expanded);
        }

        return clone;
    }

    // MatMul/Gemm with activations quantized at run time: one com.microsoft DynamicQuantizeMatMul, float in and out.
    private Node WriteDynamicMatMul(Node node, Node clone, string? foldedBias)
    {
        DynamicMatMulWeights d = DynamicMatMulWeights.For(node, _index, _options);
        string name = node.Inputs[1];
        _replacedWeights.Add(name);
        var matmul = new Node { Name = clone.Name, OpType = "DynamicQuantizeMatMul", Domain = "com.microsoft", DocString = clone.DocString };
        matmul.Inputs.Add(clone.Inputs[0]);
        matmul.Inputs.Add(AddInitializer(name + "_quantized", d.Type, new[] { d.K, d.N }, d.Codes));
        long[] scaleDims = d.Scales.Length == 1 ? Array.Empty<long>() : new long[] { d.Scales.Length };
        matmul.Inputs.Add(AddInitializer(name + "_scale", ElementType.Float, scaleDims, FloatBytes(d.Scales)));
        matmul.Inputs.Add(d.ZeroPoints is null ? string.Empty : AddInitializer(name + "_zero_point", d.Type, scaleDims, d.ZeroPoints));
        if (d.Bias is not null)
        {
            _replacedWeights.Add(node.Inputs[2]);
            matmul.Inputs.Add(AddInitializer(node.Inputs[2] + "_bias", ElementType.Float, new[] { d.N }, FloatBytes(d.Bias)));
        }
        else if (foldedBias is not null)
        {
            matmul.Inputs.Add(foldedBias);
        }
        else if (d.ZeroPoints is null)
        {
            matmul.Inputs.RemoveAt(matmul.Inputs.Count - 1);
        }

        matmul.Outputs.AddRange(clone.Outputs);
        return matmul;
    }

    private QuantizedLayer Layer(Node node)
    {
        string output = node.Outputs[0];
        WeightInput? weight = _ops.Weight(node);
        return new QuantizedLayer(node.DisplayName, node.OpType, output, _dequantized.GetValueOrDefault(output, output),
            weight is null ? null : node.Inputs[weight.Input], weight?.Axis ?? 0);
    }

    // Every reader of a tensor quantized right after its producer reads the dequantized copy, fp32 readers too:
    // ORT fuses a producer into an integer kernel only when Q is its sole consumer.
    private void RewireToDequantized(Node clone)
    {
        for (int j = 0; j < clone.Inputs.Count; j++)
        {
            if (_quantizedAfterProducer.Contains(clone.Inputs[j]))
            {
                clone.Inputs.Replace(j, _dequantized[clone.Inputs[j]]);
            }
        }
    }

    private bool FeedsIntegerNode(string tensor)
    {
        foreach (int consumer in _index.Consumers(tensor))
        {
            Node node = _index.Graph.Nodes[consumer];
            if (_modes[consumer] == NodeMode.Integer && _ops.IsActivationInput(node, tensor))
            {
                return true;
            }
        }

        return false;
    }

    private string Dequantized(string tensor)
    {
        if (_dequantized.TryGetValue(tensor, out string? existing))
        {
            return existing;
        }

        ActivationEncoding encoding = _encodings[tensor];
        if (_index.Constant(tensor) is { } constant)
        {
            // A constant operand (Add's bias, Mul's factor): stored already quantized, behind a DequantizeLinear.
            string codes = AddInitializer(tensor + "_quantized", encoding.Type, constant.Dims,
                ActivationEncoder.Quantize(constant.AsReadOnlySpan<float>(), encoding));
            (string scale, string zeroPoint) = AddActivationParameters(tensor, encoding);
            return _dequantized[tensor] = AddDequantize(tensor, codes, scale, zeroPoint, axis: null, blockSize: null);
        }

        return WriteQuantizeDequantize(tensor, encoding);
    }

    private string WriteQuantizeDequantize(string tensor, ActivationEncoding encoding)
    {
        (string scale, string zeroPoint) = AddActivationParameters(tensor, encoding);
        var quantize = new Node { Name = _names.Take(tensor + "_QuantizeLinear"), OpType = "QuantizeLinear" };
        quantize.Inputs.AddRange(new[] { tensor, scale, zeroPoint });
        string quantized = _names.Take(tensor + "_quantized");
        quantize.Outputs.Add(quantized);
        _nodes.Add(quantize);
        return _dequantized[tensor] = AddDequantize(tensor, quantized, scale, zeroPoint, axis: null, blockSize: null);
    }

    private (string Scale, string ZeroPoint) AddActivationParameters(string tensor, ActivationEncoding encoding)
    {
        string scale = AddInitializer(tensor + "_scale", ElementType.Float, Array.Empty<long>(), FloatBytes(new[] { encoding.Scale }));
        string zeroPoint = AddInitializer(tensor + "_zero_point", encoding.Type, Array.Empty<long>(), new[] { unchecked((byte)encoding.ZeroPoint) });
        return (scale, zeroPoint);
    }

    // A weight-only 4-bit MatMul: its weight rounded in blocks along K, written in the target's format.
    private Node WriteFourBit(Node node, Node clone)
    {
        WeightInput at = _ops.Weight(node)!;
        string name = node.Inputs[at.Input];
        TensorValue w = _index.Constant(name)!;
        FourBitBlocks blocks;
        if (_options.WeightOverrides.TryGetValue(name, out WeightEncoding? chosen))
        {
            // A recipe pass chose this weight's 4-bit codes: they are what ships, in the target's format.
            blocks = FourBitBlocks.FromEncoding(w.AsReadOnlySpan<float>(), w.Dims, chosen, _options.BlockSize, out string? why)
                ?? throw QuantizationErrors.OverrideNotMatMulNBits(name, chosen.Origin ?? "a recipe pass", why!);
        }
        else
        {
            blocks = FourBitBlocks.RoundToNearest(w.AsReadOnlySpan<float>(), w.Dims, _options.BlockSize, _options.FourBitZeroPoints);
        }

        // Read once: the fp32 pages of a mapped weight go back to the OS now rather than piling up across the encode.
        Onnx.MappedWeights.Release(w.Data);
        _replacedWeights.Add(name);
        if (_options.FourBitFormat == FourBitFormat.BlockedDequantize)
        {
            clone.Inputs.Replace(at.Input, AddWeightDequantize(name, blocks.ToBlockedDequantize()));
            return clone;
        }

        (byte[] b, float[] scales, byte[]? zeroPoints) = blocks.ToMatMulNBits();
        var matmul = new Node { Name = clone.Name, OpType = "MatMulNBits", Domain = "com.microsoft", DocString = clone.DocString };
        matmul.Inputs.Add(clone.Inputs[0]);
        matmul.Inputs.Add(AddInitializer(name + "_quantized", ElementType.UInt8, new long[] { blocks.N, blocks.Blocks, blocks.BlockSize / 2 }, b));
        matmul.Inputs.Add(AddInitializer(name + "_scale", ElementType.Float, new long[] { scales.Length }, FloatBytes(scales)));
        if (zeroPoints is not null)
        {
            matmul.Inputs.Add(AddInitializer(name + "_zero_point", ElementType.UInt8, new long[] { zeroPoints.Length }, zeroPoints));
        }

        matmul.Outputs.AddRange(clone.Outputs);
        matmul.Attributes.Add(NodeAttribute.FromInt("K", blocks.K));
        matmul.Attributes.Add(NodeAttribute.FromInt("N", blocks.N));
        matmul.Attributes.Add(NodeAttribute.FromInt("bits", 4));
        matmul.Attributes.Add(NodeAttribute.FromInt("block_size", blocks.BlockSize));
        // Written even at its default: the level changes the numbers (4 quantizes the activations to int8 per block),
        // so the shipped file says which the gate measured.
        matmul.Attributes.Add(NodeAttribute.FromInt("accuracy_level", _options.AccuracyLevel));
        return matmul;
    }

    private (string Dequantized, QuantizedWeight Weight) WriteWeight(Node node)
    {
        WeightInput at = _ops.Weight(node)!;
        string name = node.Inputs[at.Input];
        TensorValue w = _index.Constant(name)!;
        ReadOnlySpan<float> values = w.AsReadOnlySpan<float>();
        int outputAxis = at.Axis;
        QuantizedWeight q;
        if (_options.WeightOverrides.TryGetValue(name, out WeightEncoding? chosen))
        {
            q = WeightQuantizer.FromEncoding(name, values, w.Dims, chosen);
        }
        else
        {
            int? axis = _options.Profile.Kernels.PerChannelWeights && _options.PerChannelWeights ? outputAxis : null;
            q = WeightQuantizer.RoundToNearest8(values, w.Dims, axis, WeightGrid.For(_options.Profile, 8).SymmetricMax, BiasMinimumScales(node, axis));
        }

        Onnx.MappedWeights.Release(w.Data);
        _replacedWeights.Add(name);
        return (AddWeightDequantize(name, q), q);
    }

    private string AddWeightDequantize(string name, QuantizedWeight q)
    {
        string codes = AddInitializer(name + "_quantized", q.Type, q.Dims, q.Codes);
        string scale = AddInitializer(name + "_scale", ElementType.Float, q.ScaleDims, FloatBytes(q.Scales));
        string zeroPoint = AddInitializer(name + "_zero_point", q.Type, q.ScaleDims, q.ZeroPoints);
        return AddDequantize(name, codes, scale, zeroPoint, q.Axis, q.BlockSize);
    }

    // An int32 bias holds b / (s_x · s_w); a channel whose weights are tiny next to its bias would overflow it, so
    // its weight scale is raised just enough to keep the bias in range.
    private float[]? BiasMinimumScales(Node node, int? axis)
    {
        if (_ops.Weight(node)?.Bias is not { } at || node.Inputs.Count <= at || node.Inputs[at].Length == 0 || _index.Constant(node.Inputs[at]) is not { } b)
        {
            return null;
        }

        float inputScale = _encodings[node.Inputs[0]].Scale;
        ReadOnlySpan<float> bias = b.AsReadOnlySpan<float>();
        var minimum = new float[axis is null ? 1 : bias.Length];
        for (int c = 0; c < bias.Length; c++)
        {
            float needed = (float)(Math.Abs((double)bias[c]) / ((double)inputScale * int.MaxValue) * (1 + 1e-6));
            int slot = axis is null ? 0 : c;
            minimum[slot] = Math.Max(minimum[slot], needed);
        }

        return minimum;
    }

    private string WriteBias(Node node, QuantizedWeight weight)
    {
        WeightInput at = _ops.Weight(node)!;
        string name = node.Inputs[at.Bias!.Value];
        if (!weight.ScalesFitBias(at.Axis))
        {
            return name;
        }

        float inputScale = _encodings[node.Inputs[0]].Scale;
        ReadOnlySpan<float> bias = _index.Constant(name)!.AsReadOnlySpan<float>();
        bool perChannel = weight.Scales.Length > 1 || weight.Axis is not null;
        var scales = new float[perChannel ? bias.Length : 1];
        for (int c = 0; c < scales.Length; c++)
        {
            scales[c] = inputScale * weight.Scales[perChannel ? c : 0];
        }

        var values = new int[bias.Length];
        for (int c = 0; c < bias.Length; c++)
        {
            double v = Math.Round(bias[c] / (double)scales[perChannel ? c : 0], MidpointRounding.ToEven);
            values[c] = (int)Math.Clamp(v, int.MinValue, int.MaxValue);
        }

        _replacedWeights.Add(name);
        long[] scaleDims = perChannel ? new long[] { bias.Length } : Array.Empty<long>();
        string codes = AddInitializer(name + "_quantized", ElementType.Int32, new long[] { bias.Length }, IntBytes(values));
        string scale = AddInitializer(name + "_scale", ElementType.Float, scaleDims, FloatBytes(scales));
        string zeroPoint = AddInitializer(name + "_zero_point", ElementType.Int32, scaleDims, new byte[4 * scales.Length]);
        return AddDequantize(name, codes, scale, zeroPoint, perChannel ? 0 : null, null);
    }

    private string AddDequantize(string tensor, string input, string scale, string zeroPoint, int? axis, int? blockSize)
    {
        var dequantize = new Node { Name = _names.Take(tensor + "_DequantizeLinear"), OpType = "DequantizeLinear" };
        dequantize.Inputs.AddRange(new[] { input, scale, zeroPoint });
        string output = _names.Take(tensor + "_dequantized");
        dequantize.Outputs.Add(output);
        if (axis is { } a)
        {
            dequantize.Attributes.Add(NodeAttribute.FromInt("axis", a));
        }

        if (blockSize is { } bs)
        {
            dequantize.Attributes.Add(NodeAttribute.FromInt("block_size", bs));
        }

        _nodes.Add(dequantize);
        return output;
    }

    private string AddInitializer(string wanted, ElementType type, long[] dims, byte[] data)
    {
        string name = _names.Take(wanted);
        _target.Initializers.Add(new TensorValue { Name = name, ElementType = type, Dims = dims, Data = data });
        return name;
    }

    // The fp32 weights a quantized copy replaced go, unless something still reads them (an fp32 node or a subgraph).
    private void DropReplacedWeights()
    {
        var read = new HashSet<string>(_index.SubgraphReaders, StringComparer.Ordinal);
        foreach (Node node in _target.Nodes)
        {
            read.UnionWith(node.Inputs);
        }

        foreach (ValueInfo output in _target.Outputs)
        {
            read.Add(output.Name);
        }

        bool Unused(string name) => _replacedWeights.Contains(name) && !read.Contains(name);

        // Constant activations (an embedding table feeding Gather, a bias added by Add) are stored pre-quantized;
        // their fp32 originals are then read by nothing and would only make the shipped file larger.
        var graphInputs = new HashSet<string>(_target.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        _target.Initializers.RemoveAll(t => Unused(t.Name ?? string.Empty)
            || (!read.Contains(t.Name ?? string.Empty) && !graphInputs.Contains(t.Name ?? string.Empty)));
        _target.Nodes.RemoveAll(n => n.IsDefaultDomain && n.OpType == "Constant" && n.Outputs.Count == 1 && Unused(n.Outputs[0]));
    }

    private static byte[] FloatBytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    private static byte[] IntBytes(int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }
}
