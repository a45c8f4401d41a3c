using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Onnx;
using QuantBuild.Tests.Shared;

namespace QuantBuild.Engine.Tests.Cache;

/// <summary>
/// A result written with external data (as every output past 2 GB is; here the Fashion-MNIST sample, saved with
/// external data by the test's setting) through the result cache: the entry carries the .data file, a hit restores
/// model, data and manifest byte for byte as the fresh run wrote them, a damaged or missing .data in the cache is a
/// miss that rebuilds the same bytes, and the remote tier carries the data file too.
/// </summary>
public sealed class ExternalDataCacheTests(BlobServer server) : IClassFixture<BlobServer>, IDisposable
{
    private const string DataFile = "model.x64.onnx.data";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Out(string file) => _temp.P("out/" + file);

    private QuantizeConfig Config()
    {
        DenseTensor images = NpyReader.Read(TestFiles.Sample("eval_images.npy"));
        DataSourceTests.WriteNpy(_temp.P("calibration.npy"), TensorRows.Slice(images, 0, 64));
        DataSourceTests.WriteNpy(_temp.P("images.npy"), TensorRows.Slice(images, 0, 200));
        DataSourceTests.WriteNpy(_temp.P("labels.npy"), TensorRows.Slice(NpyReader.Read(TestFiles.Sample("eval_labels.npy")), 0, 200));
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {TestFiles.Sample("../model.onnx")}
            output: out
            calibration:
              data: calibration.npy
              samples: 64
            evaluation:
              data: images.npy
              labels: labels.npy
              metric: top1
              batch_size: 200
            gate:
              max_drop: 5
            targets:
              x64:
                device: cpu-x64-vnni
            """);
        return QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
    }

    private static TargetResult Run(QuantizeConfig config, ResultCache cache)
    {
        Candidate.SaveOptions.Value = new OnnxSaveOptions { UseExternalData = true };
        return new QuantizePipeline(config).Run(new PipelineOptions { LayerProbeSamples = 4, WriteReports = false, Cache = cache }).Targets.Single();
    }

    private (byte[] Model, byte[] Data, byte[] Manifest) Outputs(TargetResult result) =>
        (File.ReadAllBytes(Out("model.x64.onnx")), File.ReadAllBytes(Out(DataFile)), File.ReadAllBytes(result.ManifestPath!));

    [Fact]
    public void A_hit_restores_the_model_its_data_file_and_the_manifest_byte_for_byte()
    {
        QuantizeConfig config = Config();
        var cache = new ResultCache(_temp.P("cache"));
        TargetResult fresh = Run(config, cache);
        Assert.Equal((TargetStatus.Passed, false), (fresh.Status, fresh.Cached));
        var first = Outputs(fresh);
        Assert.True(first.Data.Length > 4 * first.Model.Length, "the weights are in the side file");
        string entry = cache.EntryPath(cache.Keys().Single());
        Assert.Equal(first.Data, File.ReadAllBytes(Path.Combine(entry, DataFile)));

        Directory.Delete(_temp.P("out"), recursive: true);
        TargetResult hit = Run(config, new ResultCache(_temp.P("cache")));

        Assert.Equal((TargetStatus.Passed, true), (hit.Status, hit.Cached));
        var restored = Outputs(hit);
        Assert.Equal(first.Model, restored.Model);
        Assert.Equal(first.Data, restored.Data);
        Assert.Equal(first.Manifest, restored.Manifest);
        Assert.Equal(fresh.QuantizedBytes, hit.QuantizedBytes);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("delete")]
    public void A_damaged_or_missing_data_file_in_the_cache_is_a_miss_that_rebuilds_the_same_bytes(string damage)
    {
        QuantizeConfig config = Config();
        var cache = new ResultCache(_temp.P("cache"));
        var first = Outputs(Run(config, cache));
        string key = cache.Keys().Single();
        string cached = Path.Combine(cache.EntryPath(key), DataFile);
        switch (damage)
        {
            case "flip":
                // In place, as a tool editing the output would (the entry may be a hard link to it): the hit's hash catches it.
                using (var stream = new FileStream(cached, FileMode.Open, FileAccess.ReadWrite))
                {
                    stream.Position = stream.Length / 2;
                    int b = stream.ReadByte();
                    stream.Position--;
                    stream.WriteByte((byte)(b ^ 0x10));
                }

                break;
            case "truncate":
                using (var stream = new FileStream(cached, FileMode.Open, FileAccess.Write))
                {
                    stream.SetLength(stream.Length - 1);
                }

                break;
            default:
                File.Delete(cached);
                break;
        }

        Assert.Null(cache.TryGet(key)); // and the damaged entry is gone
        TargetResult rebuilt = Run(config, new ResultCache(_temp.P("cache")));

        Assert.Equal((TargetStatus.Passed, false), (rebuilt.Status, rebuilt.Cached));
        var again = Outputs(rebuilt);
        Assert.Equal(first.Model, again.Model);
        Assert.Equal(first.Data, again.Data);
        Assert.Equal(first.Data, File.ReadAllBytes(Path.Combine(cache.EntryPath(key), DataFile))); // stored whole again
    }

    [Fact]
    public void The_remote_tier_carries_the_data_file_to_another_agent()
    {
        QuantizeConfig config = Config();
        string container = server.NewContainer();
        ResultCache Agent(string cache) => new(_temp.P(cache), new RemoteResultCache(
            new AzureBlobRemoteCache(AzureBlobRemoteCache.Connect(server.ConnectionString, container, TimeSpan.FromSeconds(30)), "ext/"),
            Serilog.Core.Logger.None, TimeSpan.FromSeconds(30)));

        ResultCache a = Agent("cache-a");
        var first = Outputs(Run(config, a));
        Assert.Equal(0, a.Complete(TimeSpan.FromSeconds(60)));

        Directory.Delete(_temp.P("out"), recursive: true);
        ResultCache b = Agent("cache-b");
        TargetResult hit = Run(config, b);
        b.Complete(TimeSpan.FromSeconds(10));

        Assert.Equal((TargetStatus.Passed, true), (hit.Status, hit.Cached));
        var restored = Outputs(hit);
        Assert.Equal(first.Model, restored.Model);
        Assert.Equal(first.Data, restored.Data);
        Assert.Equal(first.Manifest, restored.Manifest);
        // kept in agent b's local cache, whole
        Assert.Equal(first.Data, File.ReadAllBytes(Path.Combine(b.EntryPath(b.Keys().Single()), DataFile)));
    }
}
