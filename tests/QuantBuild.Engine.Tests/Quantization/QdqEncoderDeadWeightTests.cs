using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Quantization;

public class QdqEncoderDeadWeightTests
{
    [Fact]
    public void No_fp32_initializer_survives_that_nothing_reads()
    {
        // The transformer's embedding tables and Add biases are constant activations the encoder stores pre-quantized.
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(TestFiles.RepoRoot, "samples", "tiny-transformer", "model.onnx"));
        var options = new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni };
        var ranges = QdqEncoder.Plan(model, options).ToDictionary(t => t, _ => new TensorRange(-4f, 4f));

        OnnxModel encoded = QdqEncoder.Encode(model, ranges, options).Model;

        var read = new HashSet<string>(encoded.Graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        var unread = encoded.Graph.Initializers.Select(i => i.Name).Where(n => !read.Contains(n!)).ToList();
        Assert.Empty(unread);
        Assert.Contains(encoded.Graph.Initializers, i => i.Name == "tok.weight_quantized");
    }
}
