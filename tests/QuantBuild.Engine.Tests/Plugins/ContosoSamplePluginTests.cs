using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>
/// samples/ContosoVisionPlugin, a third party's data reader and metric, used from the sample's own quantize.yaml and
/// validated the way the CLI validates it, through the real pipeline on the Fashion-MNIST model.
/// </summary>
public sealed class ContosoSamplePluginTests : IDisposable
{
    private static readonly string Sample = Path.Combine(TestFiles.RepoRoot, "samples", "ContosoVisionPlugin");
    private static readonly string FashionData = Path.Combine(TestFiles.RepoRoot, "samples", "fashion-mnist", "data");
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_third_party_reader_and_metric_from_quantize_yaml_quantize_and_gate_the_model()
    {
        SampleImages.Ensure(Sample, FashionData);
        PluginHost? host = null;
        var validation = new ConfigValidationOptions
        {
            PassesFor = (references, folder) => (host ??= PluginHost.Load(references, folder, Fixtures.NoFirstParty)).KnownPasses,
            ExtensionsFor = (references, folder) => (host ??= PluginHost.Load(references, folder, Fixtures.NoFirstParty)).KnownExtensions,
        };
        QuantizeConfig config = QuantizeConfigLoader.Load(Path.Combine(Sample, "quantize.yaml"), validation);
        using PluginHost plugins = host ?? throw new InvalidOperationException("validation did not load the plugins the yaml names");
        PluginInfo contoso = Assert.Single(plugins.Plugins, p => p.Id == "contoso");
        Assert.Equal(71, contoso.CodeBlock);
        Assert.Equal(["contoso/f1"], contoso.Metrics);
        Assert.Equal(["contoso/images"], contoso.Readers);

        // The reader, with the preprocessing written in the yaml, gives back the arrays the images were made from.
        OnnxModel model = OnnxModelLoader.Load(config.ModelPath);
        string input = Batcher.ModelInputs(model).Single().Name;
        using IDataSource images = DataSources.Open(config.Evaluation!.Data, [input], model, plugins, config.BaseDirectory);
        using IDataSource arrays = NpyDataSource.Single(input, Path.Combine(FashionData, "eval_images.npy"));
        Assert.Equal(arrays.SampleCount, images.SampleCount);
        float[] fromImages = images.Read(0, 300)[input].AsSpan<float>().ToArray();
        float[] fromArrays = arrays.Read(0, 300)[input].AsSpan<float>().ToArray();
        Assert.Equal(fromArrays.Length, fromImages.Length);
        Assert.True(fromArrays.Zip(fromImages).Max(p => Math.Abs(p.First - p.Second)) < 1e-5f, "the reader's preprocessing must reproduce the model's inputs");

        RunResult run = new QuantizePipeline(config, plugins: plugins).Run(new PipelineOptions
        {
            Targets = ["x64"], OutputDirectory = _temp.Path, LayerProbeSamples = 8, WriteReports = false,
        });

        TargetResult result = Assert.Single(run.Targets);
        Assert.True(result.Status == TargetStatus.Passed, result.Error ?? result.GateMessage);
        Assert.Equal("macro_f1", result.Metric);
        // The plugin's number, recomputed here from ONNX Runtime's fp32 logits on the same 2000 images.
        Assert.Equal(MacroF1(config.ModelPath, input), result.Fp32Value!.Value, 6);
        Assert.InRange(result.QuantizedValue!.Value, result.Fp32Value.Value - 0.5, 100);
    }

    [Fact]
    public void A_reader_asked_for_an_input_shape_it_cannot_fill_fails_with_its_own_code_at_the_yaml_line()
    {
        using PluginHost plugins = Fixtures.Host(Fixtures.Folder("Contoso.Vision"));
        var source = new DataSourceConfig
        {
            Kind = DataSourceKind.Reader, Reader = "contoso/images", Path = _temp.Path,
            ReaderOptions = new ConfigMapping(Array.Empty<ConfigEntry>(), default), Location = new SourceLocation("quantize.yaml", 9, 13),
        };
        var vector = new ValueInfo { Name = "x", Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = TensorShape.Of(1, 16) } };

        var error = Assert.Throws<Abstractions.Diagnostics.QuantBuildException>(() => PluginExtensions.OpenData(plugins, source, [vector], _temp.Path));

        Assert.Equal(("QB7104", "quantize.yaml", 9, 13), (error.Code, error.FilePath, error.Line, error.Column));
        Assert.Contains("data reader 'contoso/images' (plugin 'Contoso.Vision'", error.Message);
        Assert.Contains("input 'x' is Float [1,16]", error.Message);
    }

    [Fact]
    public void A_plugin_loaded_twice_keeps_its_id_and_code_block_once()
    {
        string copy = Fixtures.CopyOf("Contoso.Vision", _temp.Path);

        using PluginHost plugins = Fixtures.Host(Fixtures.Folder("Contoso.Vision"), copy);

        PluginInfo refused = Assert.Single(plugins.Failures);
        Assert.Equal(PluginErrorCodes.BadIdentity, refused.ErrorCode);
        Assert.Contains("has id 'contoso', which plugin 'Contoso.Vision' already has", refused.Error);
        Assert.NotNull(plugins.FindMetric("contoso/f1"));
    }

    private static double MacroF1(string modelPath, string input)
    {
        using var session = new InferenceSession(modelPath, new SessionOptions { IntraOpNumThreads = 1 });
        using NpyFile images = NpyFile.Open(Path.Combine(FashionData, "eval_images.npy"));
        using NpyFile labelFile = NpyFile.Open(Path.Combine(FashionData, "eval_labels.npy"));
        long[] labels = labelFile.ReadAll().AsSpan<long>().ToArray();
        DenseTensor logits = session.Run(new Dictionary<string, DenseTensor> { [input] = images.ReadAll() }).Values.First();
        int classes = (int)logits.Shape[1];
        var tp = new int[classes];
        var predicted = new int[classes];
        var actual = new int[classes];
        ReadOnlySpan<float> scores = logits.AsSpan<float>();
        for (int r = 0; r < labels.Length; r++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                best = scores[r * classes + c] > scores[r * classes + best] ? c : best;
            }

            predicted[best]++;
            actual[labels[r]]++;
            tp[labels[r]] += best == labels[r] ? 1 : 0;
        }

        return Enumerable.Range(0, classes).Where(c => actual[c] + predicted[c] > 0).Average(c => 200.0 * tp[c] / (actual[c] + predicted[c]));
    }
}
