using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Tests.Support;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Tests;

public sealed class ExternalDataTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_model_saved_with_a_side_file_loads_back_equal()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 300, 3000, 30000);
        string path = _temp.File("model.onnx");

        OnnxModelSaver.Save(model, path, new OnnxSaveOptions { UseExternalData = true });
        OnnxModel loaded = OnnxModelLoader.Load(path);

        Assert.Empty(IrComparer.Differences(model, loaded, "TensorValue.Preserved"));
        Assert.Equal(["model.onnx", "model.onnx.data"], _temp.FileNames());
    }

    [Fact]
    public void Only_tensors_at_or_above_the_threshold_move_and_each_starts_on_an_aligned_offset()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 300, 3000, 30000);
        string path = _temp.File("model.onnx");

        OnnxModelSaver.Save(model, path, new OnnxSaveOptions { UseExternalData = true, ExternalDataThreshold = 1024, ExternalDataAlignment = 4096 });
        OnnxModel loaded = OnnxModelLoader.Load(path);

        Assert.Null(OnnxTensorFields.ExternalDataOf(loaded.Graph.Initializers[0]));
        Assert.Equal(1200, loaded.Graph.Initializers[1].Data.Length);
        Assert.NotNull(OnnxTensorFields.ExternalDataOf(loaded.Graph.Initializers[1]));
        Assert.All(loaded.Graph.Initializers.Skip(1), t =>
        {
            Assert.Equal("model.onnx.data", OnnxTensorFields.ExternalDataOf(t)!.Location);
            Assert.Equal(0, OnnxTensorFields.ExternalDataOf(t)!.Offset!.Value % 4096);
            Assert.Equal(t.Data.Length, OnnxTensorFields.ExternalDataOf(t)!.Length);
        });
    }

    [Fact]
    public void The_side_file_name_can_be_chosen()
    {
        string path = _temp.File("model.onnx");
        OnnxModelSaver.Save(ModelBuilder.WithWeights(5000), path, new OnnxSaveOptions { UseExternalData = true, ExternalDataFileName = "weights.bin" });
        Assert.Equal(["model.onnx", "weights.bin"], _temp.FileNames());
        Assert.Equal("weights.bin", OnnxTensorFields.ExternalDataOf(OnnxModelLoader.Load(path).Graph.Initializers[0])!.Location);
    }

    [Fact]
    public void A_model_over_the_protobuf_limit_uses_external_data_without_being_asked()
    {
        OnnxModel model = ModelBuilder.WithWeights(10, 100_000);
        string path = _temp.File("big.onnx");

        OnnxModelSaver.Save(model, path, new OnnxSaveOptions { ProtobufSizeLimit = 100_000 });

        Assert.Equal(["big.onnx", "big.onnx.data"], _temp.FileNames());
        Assert.Empty(IrComparer.Differences(model, OnnxModelLoader.Load(path), "TensorValue.Preserved"));
    }

    [Fact]
    public void A_model_too_large_even_with_external_data_is_QB1108()
    {
        string path = _temp.File("strings.onnx");
        var error = Assert.Throws<QuantBuildException>(() =>
            OnnxModelSaver.Save(ModelBuilder.WithStringTensor(200_000), path, new OnnxSaveOptions { ProtobufSizeLimit = 100_000 }));
        Assert.Equal("QB1108", error.Code);
        Assert.Empty(_temp.FileNames());
    }

    [Fact]
    public void Saving_with_external_data_does_not_change_the_model_in_memory()
    {
        OnnxModel model = ModelBuilder.WithWeights(5000);
        byte[] before = OnnxModelSaver.SaveToBytes(model);

        OnnxModelSaver.Save(model, _temp.File("model.onnx"), new OnnxSaveOptions { UseExternalData = true });

        Assert.Equal(before, OnnxModelSaver.SaveToBytes(model));
        Assert.Null(OnnxTensorFields.ExternalDataOf(model.Graph.Initializers[0]));
    }

    [Fact]
    public void Saving_with_external_data_is_deterministic()
    {
        OnnxModel model = ModelBuilder.WithWeights(3, 3000, 30000);
        var options = new OnnxSaveOptions { UseExternalData = true };
        OnnxModelSaver.Save(model, _temp.File("a.onnx"), options with { ExternalDataFileName = "w.data" });
        byte[] modelBytes = File.ReadAllBytes(_temp.File("a.onnx"));
        byte[] dataBytes = File.ReadAllBytes(_temp.File("w.data"));

        OnnxModelSaver.Save(OnnxModelLoader.Load(_temp.File("a.onnx")), _temp.File("a.onnx"), options with { ExternalDataFileName = "w.data" });

        Assert.Equal(modelBytes, File.ReadAllBytes(_temp.File("a.onnx")));
        Assert.Equal(dataBytes, File.ReadAllBytes(_temp.File("w.data")));
    }

    [Fact]
    public void External_tensors_written_by_other_tools_with_no_offset_or_length_read_the_whole_file()
    {
        OnnxModel model = ModelBuilder.WithWeights(4);
        byte[] weights = model.Graph.Initializers[0].Data.ToArray();
        File.WriteAllBytes(_temp.File("w0.bin"), weights);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxModelSaver.SaveToBytes(model));
        TensorProto t = proto.Graph.Initializer[0];
        t.ClearRawData();
        t.DataLocation = TensorProto.Types.DataLocation.External;
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "w0.bin" });
        File.WriteAllBytes(_temp.File("m.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(proto));

        OnnxModel loaded = OnnxModelLoader.Load(_temp.File("m.onnx"));

        Assert.Equal(weights, loaded.Graph.Initializers[0].Data.ToArray());
        Assert.Equal("w0.bin", OnnxTensorFields.ExternalDataOf(loaded.Graph.Initializers[0])!.Location);
    }
}
