using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Plugins.Nupes.Tests;

public class EncodingTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 13)]
    [InlineData(4, 7)]
    [InlineData(5, 100)]
    [InlineData(6, 9)]
    [InlineData(7, 33)]
    [InlineData(8, 5)]
    public void PackingRoundTripsAndTakesBitsPerCode(int bits, int count)
    {
        var random = new Random(bits * 1000 + count);
        int[] codes = Enumerable.Range(0, count).Select(_ => random.Next(1 << bits)).ToArray();
        byte[][] planes = BitPlanes.Pack(codes, bits);
        Assert.Equal(codes, BitPlanes.Unpack(planes, bits, count));
        Assert.Equal(bits, BitPlanes.Layout(bits).Sum(p => p.Width));
        long bytes = planes.Sum(p => (long)p.Length);
        Assert.InRange(bytes, (count * bits + 7) / 8, (count * bits + 7) / 8 + planes.Length);
    }

    public static TheoryData<int, int, bool> Shapes => new()
    {
        { 2, 0, false }, { 3, 0, true }, { 4, 0, false }, { 4, 16, true }, { 4, 24, false },
        { 5, 8, false }, { 6, 0, true }, { 7, 32, false }, { 8, 0, false }, { 8, 16, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DecodeSubgraphInOnnxRuntimeEqualsTheCSharpDecodeBitForBit(int bits, int groupSize, bool transposed)
    {
        // A conv weight [12, 5, 3, 3] (rows of 45), or an [in, out] = [45, 12] MatMul weight stored transposed.
        const int channels = 12, length = 45;
        float[] rows = TestData.Weights(channels * length, bits + groupSize);
        var m = new LayerMatrix(rows, channels, length, groupSize);
        LayerQuantization q = LayerQuantizer.OptimizeCodes(m, LayerQuantizer.Search(m, bits, new ExponentRange { Steps = 5 }, WeightError.Instance), WeightError.Instance);
        long[] dims = transposed ? [length, channels] : [channels, 5, 3, 3];
        EncodedWeight encoded = EncodedWeight.From("w", m, q, dims, transposed);

        float[] expected = encoded.Decode();
        for (int c = 0; c < channels; c++)
        {
            for (int r = 0; r < length; r++)
            {
                Assert.Equal(q.Decoded[c * length + r], expected[transposed ? r * channels + c : c * length + r]);
            }
        }

        byte[] model = DecodeModel(encoded);
        foreach (GraphOptimizationLevel level in new[] { GraphOptimizationLevel.All, GraphOptimizationLevel.DisableAll })
        {
            using var session = new InferenceSession(model, new SessionOptions { GraphOptimizationLevel = level });
            DenseTensor actual = session.Run(new Dictionary<string, DenseTensor>())["w"];
            Assert.Equal(dims, actual.ShapeArray());
            float[] got = actual.AsSpan<float>().ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(got[i]));
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void StoredBytesAreAboutBitsOver32OfTheFloatWeights(int bits)
    {
        const int channels = 128, length = 1600;
        var m = new LayerMatrix(TestData.Weights(channels * length, 1), channels, length, 0);
        LayerQuantization q = LayerQuantizer.Quantize(m, bits, 0.7, WeightError.Instance);
        EncodedWeight encoded = EncodedWeight.From("w", m, q, [channels, length], false);
        (_, List<TensorValue> constants) = encoded.BuildGraph();
        long stored = constants.Sum(t => (long)t.Data.Length);
        double ratio = stored / (channels * length * 4.0);
        Assert.InRange(ratio, bits / 32.0, bits / 32.0 * 1.01 + 0.001); // codes + 128 scales + the table + shape constants
    }

    /// <summary>A model holding only the decode subgraph, its output the weight.</summary>
    private static byte[] DecodeModel(EncodedWeight encoded)
    {
        var model = new OnnxModel { IrVersion = 8, ProducerName = "nupes-test" };
        model.OpsetImports.Add(new OpsetImport(string.Empty, 17));
        (List<Node> nodes, List<TensorValue> constants) = encoded.BuildGraph();
        model.Graph.Name = "decode";
        model.Graph.Nodes.AddRange(nodes);
        model.Graph.Initializers.AddRange(constants);
        var shape = new TensorShape();
        foreach (long d in encoded.Dims)
        {
            shape.Dims.Add(Dimension.Fixed(d));
        }

        model.Graph.Outputs.Add(new ValueInfo { Name = encoded.Name, Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = shape } });
        return OnnxModelSaver.SaveToBytes(model);
    }
}
