using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Tests.Support;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Tests;

/// <summary>
/// External data is mapped, not read: loading a model costs its graph, sessions reference its weights, and saving
/// streams them tensor by tensor, byte for byte the same every time.
/// </summary>
public sealed class MappedExternalDataTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Loading_external_data_allocates_a_small_fraction_of_the_weights()
    {
        // 8 tensors of 1 M floats: 32 MB of weights.
        OnnxModel model = ModelBuilder.WithWeights(Enumerable.Repeat(1 << 20, 8).ToArray());
        string path = _temp.File("big.onnx");
        OnnxModelSaver.Save(model, path, new OnnxSaveOptions { UseExternalData = true });

        long before = GC.GetAllocatedBytesForCurrentThread();
        OnnxModel loaded = OnnxModelLoader.Load(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < (2 << 20), $"loading allocated {allocated} bytes for 32 MB of external weights");
        Assert.All(loaded.Graph.Initializers, t => Assert.False(MemoryMarshal.TryGetArray(t.Data, out _)));
        Assert.Empty(IrComparer.Differences(model, loaded, "TensorValue.Preserved"));
    }

    [Fact]
    public void A_model_with_external_data_in_another_folder_round_trips_into_a_self_contained_copy()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 3000, 30000);
        Directory.CreateDirectory(_temp.File("a"));
        Directory.CreateDirectory(_temp.File("b"));
        OnnxModelSaver.Save(model, _temp.File("a/m.onnx"), new OnnxSaveOptions { UseExternalData = true });

        OnnxModel loaded = OnnxModelLoader.Load(_temp.File("a/m.onnx"));
        OnnxModelSaver.Save(loaded, _temp.File("b/m.onnx"), new OnnxSaveOptions { UseExternalData = true, ExternalDataFileName = "weights.bin" });
        Directory.Delete(_temp.File("a"), recursive: true);
        OnnxModel copy = OnnxModelLoader.Load(_temp.File("b/m.onnx"));

        Assert.Empty(IrComparer.Differences(model, copy, "TensorValue.Preserved"));
        Assert.Equal("weights.bin", OnnxTensorFields.ExternalDataOf(copy.Graph.Initializers[2])!.Location);
    }

    [Fact]
    public void Releasing_a_mapped_tensor_returns_its_resident_pages_and_its_bytes_read_back_unchanged()
    {
        OnnxModel model = ModelBuilder.WithWeights(16 << 20);
        string path = _temp.File("release.onnx");
        OnnxModelSaver.Save(model, path, new OnnxSaveOptions { UseExternalData = true });
        TensorValue weight = OnnxModelLoader.Load(path).Graph.Initializers[0];
        long checksum = Sum(weight.Data.Span);

        long touched = ResidentFileBytes();
        MappedWeights.Release(weight.Data);
        long released = touched - ResidentFileBytes();

        // madvise is Linux only; elsewhere Release does nothing and only the read-back below is checked.
        Assert.True(!OperatingSystem.IsLinux() || released > 40 << 20, $"releasing a 64 MB mapped tensor dropped {released} resident bytes");
        Assert.Equal(checksum, Sum(weight.Data.Span));
        Assert.Equal(model.Graph.Initializers[0].Data.ToArray(), weight.Data.ToArray());
    }

    private static long Sum(ReadOnlySpan<byte> bytes)
    {
        long sum = 0;
        foreach (byte b in bytes)
        {
            sum += b;
        }

        return sum;
    }

    // File-backed resident memory of this process (mapped files), from /proc.
    private static long ResidentFileBytes() => !OperatingSystem.IsLinux() ? 0 :
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("RssFile:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

    [Fact]
    public void Saving_a_mapped_model_streams_its_weights_and_gives_the_same_bytes_every_time()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 3000, 300_000);
        OnnxModelSaver.Save(model, _temp.File("in.onnx"), new OnnxSaveOptions { UseExternalData = true });
        OnnxModel loaded = OnnxModelLoader.Load(_temp.File("in.onnx"));
        // Forced to external data by size, as a model over 2 GB is.
        var options = new OnnxSaveOptions { ProtobufSizeLimit = 100_000, ExternalDataFileName = "out.data" };

        OnnxModelSaver.Save(loaded, _temp.File("out.onnx"), options);
        byte[] first = File.ReadAllBytes(_temp.File("out.onnx"));
        byte[] firstData = File.ReadAllBytes(_temp.File("out.data"));
        OnnxModelSaver.Save(OnnxModelLoader.Load(_temp.File("in.onnx")), _temp.File("out.onnx"), options);

        Assert.Equal(first, File.ReadAllBytes(_temp.File("out.onnx")));
        Assert.Equal(firstData, File.ReadAllBytes(_temp.File("out.data")));
        Assert.True(first.Length < 10_000, "the weights went to the side file");
        Assert.Empty(IrComparer.Differences(model, OnnxModelLoader.Load(_temp.File("out.onnx")), "TensorValue.Preserved"));
    }

    [Fact]
    public void A_session_graph_references_mapped_weights_and_inlines_replaced_ones()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 3000, 30000);
        OnnxModelSaver.Save(model, _temp.File("m.onnx"), new OnnxSaveOptions { UseExternalData = true });
        OnnxModel loaded = OnnxModelLoader.Load(_temp.File("m.onnx"));
        loaded.Graph.Initializers[1].Data = new byte[3000 * 4];

        SessionGraph graph = OnnxModelSaver.SaveForSession(loaded);
        ModelProto proto = ModelProto.Parser.ParseFrom(graph.Graph);

        Assert.Equal(Path.GetFullPath(_temp.Path), graph.WeightsFolder);
        Assert.Equal(30000 * 4, graph.ReferencedBytes);
        TensorProto referenced = proto.Graph.Initializer[2];
        Assert.Equal(TensorProto.Types.DataLocation.External, referenced.DataLocation);
        Assert.Equal("m.onnx.data", referenced.ExternalData.Single(e => e.Key == "location").Value);
        Assert.Equal(3000 * 4, proto.Graph.Initializer[1].RawData.Length);
        Assert.True(graph.Graph.Length < 3000 * 4 + 1000);
    }

    [Fact]
    public void Externalize_moves_inline_weights_to_one_mapped_file_without_changing_the_model()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 3000, 30000);
        byte[] bytes = OnnxModelSaver.SaveToBytes(model);
        OnnxModel loaded = OnnxModelLoader.LoadFromBytes(bytes);

        long moved = OnnxModelSaver.Externalize(loaded, _temp.File("run.weights"));

        Assert.True(moved >= (3000 + 30000) * 4);
        Assert.Equal(bytes, OnnxModelSaver.SaveToBytes(loaded));
        Assert.All(loaded.Graph.Initializers, t => Assert.False(
            MemoryMarshal.TryGetArray(t.Data, out ArraySegment<byte> s) && ReferenceEquals(s.Array, bytes),
            "no tensor keeps the loaded buffer alive"));
        Assert.Equal(Path.GetFullPath(_temp.Path), OnnxModelSaver.SaveForSession(loaded).WeightsFolder);
    }

    [Fact]
    public void A_copy_shares_the_weights_and_a_change_to_it_leaves_the_original_alone()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 30000);
        OnnxModelSaver.Save(model, _temp.File("m.onnx"), new OnnxSaveOptions { UseExternalData = true });
        OnnxModel loaded = OnnxModelLoader.Load(_temp.File("m.onnx"));

        OnnxModel copy = OnnxModelLoader.Copy(loaded);
        copy.Graph.Initializers[1].Data = new byte[30000 * 4];
        copy.Graph.Nodes[0].OpType = "Add";

        Assert.Empty(IrComparer.Differences(model, loaded, "TensorValue.Preserved"));
        Assert.False(MemoryMarshal.TryGetArray(OnnxModelLoader.Copy(loaded).Graph.Initializers[1].Data, out _));
    }

    [Fact]
    public void A_copy_of_a_model_whose_weights_the_run_moved_aside_does_not_call_them_external()
    {
        OnnxModel model = OnnxModelLoader.LoadFromBytes(OnnxModelSaver.SaveToBytes(ModelBuilder.WithWeights(3, 30000)));
        OnnxModelSaver.Externalize(model, _temp.File("run.weights"));

        OnnxModel copy = OnnxModelLoader.Copy(model);

        Assert.All(copy.Graph.Initializers, t => Assert.Null(OnnxTensorFields.ExternalDataOf(t)));
        Assert.Empty(IrComparer.Differences(model, copy));
    }

    [Fact]
    public void The_serialized_size_is_the_length_of_the_bytes_a_save_writes_to_within_a_few_length_prefixes()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 3000, 30000);
        long saved = OnnxModelSaver.SaveToBytes(model).LongLength;
        Assert.InRange(OnnxModelSaver.SerializedSize(model), saved - 16, saved + 16);
    }
}
