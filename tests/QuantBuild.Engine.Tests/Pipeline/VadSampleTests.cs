using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// samples/vad end to end: Silero VAD v5, whose whole network sits inside the branches of an If on the sample rate,
/// with its LSTM state streamed window after window (quantize.yaml <c>stream: stateN</c>). eng/test.sh prepares the
/// sample (npm model, synthesized audio) before the tests run.
/// </summary>
public sealed class VadSampleTests(ITestOutputHelper output)
{
    private static readonly string Sample = Path.Combine(TestFiles.RepoRoot, "samples", "vad");

    [Fact]
    public void The_VAD_sample_passes_its_gate_with_its_LSTMs_quantized_inside_the_If_branches()
    {
        Assert.True(File.Exists(Path.Combine(Sample, "model", "silero_vad_v5.onnx")), "samples/vad is not prepared: run samples/vad/prepare.sh (eng/test.sh does)");
        using var folder = new TempFolder();

        RunResult run = new QuantizePipeline(QuantizeConfigLoader.Load(Path.Combine(Sample, "quantize.yaml")))
            .Run(new PipelineOptions { OutputDirectory = folder.Path, WriteReports = false, ReadCache = false });

        TargetResult target = Assert.Single(run.Targets);
        output.WriteLine($"{target.Status} fp32 {target.Fp32Value} int8 {target.QuantizedValue} {target.Error}");
        Assert.Equal(TargetStatus.Passed, target.Status);
        Assert.True(target.QuantizedValue >= target.Fp32Value - 0.5);
        OnnxModel shipped = OnnxModelLoader.Load(target.OutputPath!);
        List<Node> all = shipped.Graph.Nodes.SelectMany(n => QuantBuild.Engine.Quantization.Branches.AllNodes(n).Prepend(n)).ToList();
        Assert.Contains(all, n => n.OpType == "DynamicQuantizeLSTM" && n.Name!.StartsWith("If_0_then_branch", StringComparison.Ordinal));
        // Dynamic LSTMs need no range, so those of branches the windows never take (8 kHz, the decoder's batch branch) too.
        Assert.DoesNotContain(all, n => n.OpType == "LSTM");
        Assert.True(target.QuantizedBytes < target.Fp32Bytes * 0.8, $"{target.QuantizedBytes} bytes of {target.Fp32Bytes}");

        // Streamed by hand against the speech labels: the shipped model decides like the fp32 one, and streaming the
        // state is what makes the fp32 model accurate at all (from zero state every window it is far worse).
        OnnxModel fp32 = OnnxModelLoader.Load(Path.Combine(Sample, "model", "silero_vad_v5.onnx"));
        long[] speech = NpyReader.Read(Path.Combine(Sample, "data", "eval_speech.npy")).AsSpan<long>().ToArray();
        double fp32Streamed = Accuracy(fp32, speech, stream: true);
        double int8Streamed = Accuracy(shipped, speech, stream: true);
        double fp32Zero = Accuracy(fp32, speech, stream: false);
        output.WriteLine($"accuracy streamed fp32 {fp32Streamed:0.00} int8 {int8Streamed:0.00}; zero state fp32 {fp32Zero:0.00}");
        Assert.True(fp32Streamed > fp32Zero + 5);
        Assert.True(Math.Abs(int8Streamed - fp32Streamed) <= 1);
    }

    private static double Accuracy(OnnxModel model, long[] speech, bool stream)
    {
        DenseTensor windows = NpyReader.Read(Path.Combine(Sample, "data", "eval_windows.npy"));
        ReadOnlySpan<float> audio = windows.AsSpan<float>();
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model), new SessionOptions { IntraOpNumThreads = 1 });
        var sr = DenseTensor.Create(ElementType.Int64, new long[] { 16000 }, Array.Empty<long>());
        var state = DenseTensor.FromFloats(new float[2 * 128], 2, 1, 128);
        int correct = 0;
        for (int w = 0; w < windows.Shape[0]; w++)
        {
            var feed = new Dictionary<string, DenseTensor> { ["input"] = DenseTensor.FromFloats(audio.Slice(w * 512, 512), 1, 512), ["sr"] = sr, ["state"] = state };
            IReadOnlyDictionary<string, DenseTensor> r = session.Run(feed, ["output", "stateN"]);
            bool decided = r["output"].AsSpan<float>()[0] > 0.5f;
            correct += decided == (speech[w] == 1) ? 1 : 0;
            if (stream)
            {
                state = r["stateN"];
            }
        }

        return 100.0 * correct / windows.Shape[0];
    }
}
