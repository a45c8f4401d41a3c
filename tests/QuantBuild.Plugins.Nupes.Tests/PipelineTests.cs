using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.Nupes.Tests;

/// <summary>NUPES through the real pipeline on the CNN sample: recipe, encoder, evaluation of the written bytes, gate.</summary>
public sealed class PipelineTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "nupes-test-" + Guid.NewGuid().ToString("N"));

    public PipelineTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_root);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void FourBitNupesShrinksTheFileAndBeatsUniformFourBitOnTheCnnSample()
    {
        (TargetResult nupes, TargetResult uniform) = RunFourBit(TestData.CnnSample, "eval_images.npy", "eval_labels.npy", batch: 250);

        // 4 bits of 32: the file is about an eighth of the fp32 one (biases, scales and the graph stay).
        Assert.True(nupes.QuantizedBytes < 0.15 * nupes.Fp32Bytes, $"{nupes.QuantizedBytes} of {nupes.Fp32Bytes}");
        Assert.Equal(uniform.QuantizedBytes, nupes.QuantizedBytes);

        // Same bits, same per-channel scales, same file format: NUPES is more accurate than the uniform grid.
        Assert.True(nupes.QuantizedValue > uniform.QuantizedValue, $"nupes {nupes.QuantizedValue} vs uniform {uniform.QuantizedValue}");
        Assert.True(nupes.OutputSqnrDb > uniform.OutputSqnrDb + 2, $"SQNR nupes {nupes.OutputSqnrDb} vs uniform {uniform.OutputSqnrDb}");
        AssertEveryLayerIsCloserToItsWeights(TestData.CnnSample, nupes, uniform);

        // The written file holds packed uint8 codes instead of the fp32 weights, decoded by a Gather over the table.
        OnnxModel written = OnnxModelLoader.Load(nupes.OutputPath!);
        Assert.DoesNotContain(written.Graph.Initializers, t => t.ElementType == ElementType.Float && t.ElementCount > 10000);
        Assert.Contains(written.Graph.Initializers, t => t.Name!.EndsWith(".codes4b", StringComparison.Ordinal) && t.ElementType == ElementType.UInt8);
        Assert.Equal(5, written.Graph.Nodes.Count(n => n.OpType == "Gather"));
        Assert.All(nupes.FloatNodes.Where(f => f.OpType is "Conv" or "Gemm"), f => Assert.Contains("computed from initializers (decoded at load", f.Reason));
        Assert.Equal(5, nupes.FloatNodes.Count(f => f.OpType is "Conv" or "Gemm"));
        // the decode subgraphs are reported as folded at load, not as ops missing integer kernels
        Assert.All(nupes.FloatNodes.Where(f => f.OpType is "BitShift" or "Gather" or "Cast"), f => Assert.Contains("folds it once at load", f.Reason));
        Assert.Equal(5, nupes.FloatNodes.Count(f => f.OpType == "Gather"));
    }

    [Fact]
    public void FourBitNupesBeatsUniformFourBitOnTheTransformerSample()
    {
        (TargetResult nupes, TargetResult uniform) = RunFourBit(TestData.TransformerSample, "eval_inputs.npy", "eval_labels.npy", batch: 100);

        Assert.Equal(uniform.QuantizedBytes, nupes.QuantizedBytes);
        Assert.True(nupes.QuantizedValue > uniform.QuantizedValue, $"nupes {nupes.QuantizedValue} vs uniform {uniform.QuantizedValue}");
        Assert.True(nupes.OutputSqnrDb > uniform.OutputSqnrDb + 1.5, $"SQNR nupes {nupes.OutputSqnrDb} vs uniform {uniform.OutputSqnrDb}");
        AssertEveryLayerIsCloserToItsWeights(TestData.TransformerSample, nupes, uniform);
    }

    [Fact]
    public void A_small_capture_budget_captures_in_groups_and_codes_the_same_weights()
    {
        // The CNN's five layer inputs take 0.8, 12.8, 6.4, 1.6 and 0.13 MB at 256 samples: a 16 MB budget packs them
        // into two groups, none cut short, so every code must come out as with one capture. At 4 MB the two largest
        // no longer fit at 256 samples and are captured for fewer, which the log says.
        var events = new List<Serilog.Events.LogEvent>();
        using Serilog.Core.Logger log = new Serilog.LoggerConfiguration().WriteTo.Sink(new ListSink(events)).CreateLogger();
        RunResult run = Run(TestData.CnnSample, """
            targets:
              whole:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
              grouped:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    capture_budget_mb: 16
              tight:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    capture_budget_mb: 4
            """, log);

        Assert.All(run.Targets, t => Assert.Equal(TargetStatus.Passed, t.Status));
        List<string> lines = events.Select(e => e.RenderMessage()).ToList();
        _output.WriteLine(string.Join("\n", lines.Where(l => l.Contains("captur", StringComparison.Ordinal))));
        Assert.Contains(lines, l => l.Contains("grouped", StringComparison.Ordinal) && l.Contains("captured in 2 groups (2 captures)", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("grouped", StringComparison.Ordinal) && l.Contains("samples to stay within", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("tight", StringComparison.Ordinal) && l.Contains("features.2/Relu_output_0' takes 0.05 MB per sample: captured for 83 of 256 samples", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("whole", StringComparison.Ordinal) && l.Contains("captured in", StringComparison.Ordinal));
        Dictionary<string, byte[]> Coded(string target) => OnnxModelLoader.Load(run.Targets.Single(t => t.Name == target).OutputPath!)
            .Graph.Initializers.Where(t => t.Name!.StartsWith("nupes", StringComparison.Ordinal)).ToDictionary(t => t.Name!, t => t.Data.ToArray());
        Dictionary<string, byte[]> whole = Coded("whole"), grouped = Coded("grouped");
        Assert.Equal(whole.Keys.Order(), grouped.Keys.Order());
        Assert.True(whole.Count >= 15, $"{whole.Count} coded tensors");
        Assert.All(whole, kv => Assert.Equal(kv.Value, grouped[kv.Key]));
    }

    private sealed class ListSink(List<Serilog.Events.LogEvent> events) : Serilog.Core.ILogEventSink
    {
        public void Emit(Serilog.Events.LogEvent logEvent)
        {
            lock (events)
            {
                events.Add(logEvent);
            }
        }
    }

    [Fact]
    public void At_two_bits_the_default_moves_codes_within_its_slack_and_beats_uniform_by_far()
    {
        // {−s, 0, s} whatever the exponent: only the codes can move, within 1.2× uniform's weight MSE by default
        string sample = TestData.CnnSample;
        RunResult run = Run(sample, $"""
            evaluation:
              data: {Path.Combine(sample, "data", "eval_images.npy")}
              labels: {Path.Combine(sample, "data", "eval_labels.npy")}
              metric: top1
              batch_size: 250
            gate:
              max_drop: 100
            targets:
              nupes:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    bits: 2
              uniform:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    bits: 2
                    exponent:
                      min: 1
                      max: 1
                    optimize_codes: false
            """);
        TargetResult nupes = run.Targets.Single(t => t.Name == "nupes"), uniform = run.Targets.Single(t => t.Name == "uniform");
        _output.WriteLine($"2-bit top1 nupes {nupes.QuantizedValue} vs uniform {uniform.QuantizedValue}");
        Assert.True(nupes.QuantizedValue > uniform.QuantizedValue + 20, $"nupes {nupes.QuantizedValue} vs uniform {uniform.QuantizedValue}");

        OnnxModel source = OnnxModelLoader.Load(Path.Combine(sample, "model.onnx"));
        List<string> names = source.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm").Select(n => n.Inputs[1]).ToList();
        Dictionary<string, float[]> coded = TestData.DecodedWeights(nupes.OutputPath!, names), rtn = TestData.DecodedWeights(uniform.OutputPath!, names);
        foreach (string name in names)
        {
            float[] fp32 = source.Graph.Initializers.Single(t => t.Name == name).AsReadOnlySpan<float>().ToArray();
            double se = fp32.Select((w, i) => Math.Pow(w - coded[name][i], 2)).Sum(), seUniform = fp32.Select((w, i) => Math.Pow(w - rtn[name][i], 2)).Sum();
            _output.WriteLine($"{name}: weight MSE ratio {se / seUniform:0.000}");
            Assert.InRange(se / seUniform, 1.0001, 1.2 + 1e-9); // the codes moved, and no further than the default slack
        }
    }

    [Fact]
    public void Embedding_tables_are_coded_only_when_asked_for_and_decode_to_rows_nearer_than_uniform()
    {
        string sample = TestData.TransformerSample;
        RunResult run = Run(sample, """
            targets:
              linear:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
              embeddings:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    layers: [MatMul, Gather]
              uniform:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    layers: [MatMul, Gather]
                    exponent: {min: 1, max: 1}
                    optimize_codes: false
            """);
        Assert.All(run.Targets, t => Assert.Equal(TargetStatus.Passed, t.Status));

        OnnxModel source = OnnxModelLoader.Load(Path.Combine(sample, "model.onnx"));
        Node gather = source.Graph.Nodes.Single(n => n.OpType == "Gather" && source.Graph.Initializers.Any(t => t.Name == n.Inputs[0] && t.ElementType == ElementType.Float));
        string table = gather.Inputs[0];
        TargetResult Target(string name) => run.Targets.Single(t => t.Name == name);

        // by default the table stays a float initializer; named, it is replaced by codes the Gather reads decoded
        Assert.Contains(OnnxModelLoader.Load(Target("linear").OutputPath!).Graph.Initializers, t => t.Name == table && t.ElementType == ElementType.Float);
        Assert.DoesNotContain(OnnxModelLoader.Load(Target("embeddings").OutputPath!).Graph.Initializers, t => t.Name == table);
        long tableBytes = source.Graph.Initializers.Single(t => t.Name == table).Data.Length;
        Assert.True(Target("linear").QuantizedBytes - Target("embeddings").QuantizedBytes > 0.8 * tableBytes * 28 / 32,
            $"{Target("linear").QuantizedBytes} → {Target("embeddings").QuantizedBytes} bytes for a {tableBytes}-byte table");

        float[] fp32 = source.Graph.Initializers.Single(t => t.Name == table).AsReadOnlySpan<float>().ToArray();
        float[] coded = TestData.DecodedWeights(Target("embeddings").OutputPath!, [table])[table];
        float[] uniform = TestData.DecodedWeights(Target("uniform").OutputPath!, [table])[table];
        double se = 0, seUniform = 0;
        for (int i = 0; i < fp32.Length; i++)
        {
            se += Math.Pow(fp32[i] - coded[i], 2);
            seUniform += Math.Pow(fp32[i] - uniform[i], 2);
        }

        _output.WriteLine($"{table}: weight MSE {se / fp32.Length:G4} vs uniform {seUniform / fp32.Length:G4}");
        Assert.True(se < 0.95 * seUniform, $"{se} vs uniform {seUniform}");
    }

    [Fact]
    public void A_layer_name_the_model_does_not_have_fails_the_target_with_QB2102()
    {
        RunResult run = Run(TestData.CnnSample, """
            targets:
              typo:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    layers: [Gemm, /features/features.0/Cnv]
            """);

        TargetResult typo = Assert.Single(run.Targets);
        Assert.NotEqual(TargetStatus.Passed, typo.Status);
        Assert.Contains("QB2102", typo.Error, StringComparison.Ordinal);
        Assert.Contains("'/features/features.0/Cnv'", typo.Error, StringComparison.Ordinal);
        Assert.Contains("/features/features.0/Conv", typo.Error, StringComparison.Ordinal); // the names to choose from
        Assert.False(File.Exists(Path.Combine(_root, "out", "model.typo.onnx")));
    }

    /// <summary>Runs the pipeline on <paramref name="sample"/>'s model and calibration data with the rest of the yaml (evaluation, gate, targets).</summary>
    private RunResult Run(string sample, string rest, Serilog.ILogger? log = null)
    {
        string config = Path.Combine(_root, "quantize.yaml");
        File.WriteAllText(config, $"""
            model: {Path.Combine(sample, "model.onnx")}
            output: out
            calibration:
              data: {Path.Combine(sample, "data", "calibration.npy")}

            """ + rest);
        QuantizeConfig loaded = QuantizeConfigLoader.Load(config, new ConfigValidationOptions { KnownPasses = null });
        return new QuantizePipeline(loaded, log).Run(new PipelineOptions { WriteReports = false });
    }

    /// <summary>The default NUPES pass (data-driven, bounded weight MSE) and uniform RTN, both 4-bit per channel, through the pipeline.</summary>
    private (TargetResult Nupes, TargetResult Uniform) RunFourBit(string sample, string evalData, string evalLabels, int batch)
    {
        RunResult run = Run(sample, $"""
            evaluation:
              data: {Path.Combine(sample, "data", evalData)}
              labels: {Path.Combine(sample, "data", evalLabels)}
              metric: top1
              batch_size: {batch}
            gate:
              max_drop: 3.0
            targets:
              nupes:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    bits: 4
              uniform:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    bits: 4
                    exponent:
                      min: 1
                      max: 1
                    optimize_codes: false
            """);
        foreach (TargetResult t in run.Targets)
        {
            _output.WriteLine($"{t.Name}: {t.Status} top1 {t.QuantizedValue} (fp32 {t.Fp32Value}), {t.QuantizedBytes} of {t.Fp32Bytes} bytes, SQNR {t.OutputSqnrDb:0.00} dB {t.Error}");
        }

        TargetResult nupes = run.Targets.Single(t => t.Name == "nupes");
        TargetResult uniform = run.Targets.Single(t => t.Name == "uniform");
        Assert.Equal(TargetStatus.Passed, nupes.Status);
        Assert.Equal(TargetStatus.Passed, uniform.Status);
        Assert.NotNull(nupes.QuantizedValue);
        Assert.NotNull(uniform.QuantizedValue);
        return (nupes, uniform);
    }

    /// <summary>
    /// Every coded weight, as ONNX Runtime decodes it from the written file, is nearer the fp32 weight (MSE) with
    /// NUPES than with uniform RTN, and so is the total.
    /// </summary>
    private void AssertEveryLayerIsCloserToItsWeights(string sample, TargetResult nupes, TargetResult uniform)
    {
        OnnxModel source = OnnxModelLoader.Load(Path.Combine(sample, "model.onnx"));
        var weights = source.Graph.Initializers.Where(t => t.Name is not null).ToDictionary(t => t.Name!);
        List<string> names = source.Graph.Nodes
            .Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && n.Inputs.Count > 1 && weights.TryGetValue(n.Inputs[1], out TensorValue? w) && w.ElementType == ElementType.Float && w.Dims.Length >= 2)
            .Select(n => n.Inputs[1]).Distinct().ToList();
        Assert.NotEmpty(names);
        Dictionary<string, float[]> coded = TestData.DecodedWeights(nupes.OutputPath!, names);
        Dictionary<string, float[]> baseline = TestData.DecodedWeights(uniform.OutputPath!, names);
        double total = 0, totalUniform = 0;
        foreach (string name in names)
        {
            float[] fp32 = weights[name].AsReadOnlySpan<float>().ToArray();
            double se = 0, seUniform = 0;
            for (int i = 0; i < fp32.Length; i++)
            {
                se += Math.Pow(fp32[i] - coded[name][i], 2);
                seUniform += Math.Pow(fp32[i] - baseline[name][i], 2);
            }

            _output.WriteLine($"{name}: weight MSE {se / fp32.Length:G4} vs uniform {seUniform / fp32.Length:G4} ({se / seUniform:0.000})");
            Assert.True(se < seUniform, $"{name}: weight squared error {se} vs uniform {seUniform}");
            Assert.NotEqual(0, seUniform);
            total += se;
            totalUniform += seUniform;
        }

        _output.WriteLine($"overall weight MSE ratio {total / totalUniform:0.000}");
        Assert.True(total < 0.97 * totalUniform, $"overall {total} vs uniform {totalUniform}");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void DataFreeNupesHasLessWeightErrorThanUniformOnEverySampleLayer(int bits)
    {
        var range = new ExponentRange();
        double total = 0, totalUniform = 0;
        foreach ((string node, float[] rows, int channels, int length) in TestData.Layers(Path.Combine(TestData.CnnSample, "model.onnx")))
        {
            var m = new LayerMatrix(rows, channels, length, 0);
            double uniform = LayerQuantizer.Quantize(m, bits, 1.0, WeightError.Instance).Error;
            LayerQuantization nupes = LayerQuantizer.OptimizeCodes(m, LayerQuantizer.Search(m, bits, range, WeightError.Instance), WeightError.Instance);
            _output.WriteLine($"{node}: a={nupes.Exponent:0.###} MSE {nupes.Error / rows.Length:G4} vs uniform {uniform / rows.Length:G4}");
            Assert.True(nupes.Error < uniform, $"{node}: {nupes.Error} vs {uniform}");
            total += nupes.Error;
            totalUniform += uniform;
        }

        _output.WriteLine($"overall MSE ratio {total / totalUniform:0.000}");
        Assert.True(total < (bits == 8 ? 1.0 : 0.85) * totalUniform);
    }
}
