using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Tests.Support;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Tests;

public sealed class ZeroCopyLoadTests
{
    [Fact]
    public void Large_weights_share_the_file_buffer_instead_of_being_copied()
    {
        OnnxModel model = ModelBuilder.WithWeights(4, 100_000);
        byte[] bytes = OnnxModelSaver.SaveToBytes(model);

        OnnxModel loaded = OnnxModelLoader.LoadFromBytes(bytes);

        Assert.True(MemoryMarshal.TryGetArray(loaded.Graph.Initializers[1].Data, out ArraySegment<byte> segment));
        Assert.Same(bytes, segment.Array);
        Assert.Null(OnnxTensorFields.ExternalDataOf(loaded.Graph.Initializers[1]));
        Assert.Empty(IrComparer.Differences(model, loaded));
    }

    [Fact]
    public void Large_weights_inside_subgraphs_and_constant_nodes_load_equal()
    {
        OnnxModel inner = ModelBuilder.WithWeights(50_000);
        OnnxModel model = ModelBuilder.WithWeights(4);
        var constant = new Node { OpType = "Constant" };
        constant.Outputs.Add("c");
        constant.Attributes.Add(NodeAttribute.FromTensor("value", TensorValue.FromFloats("", new float[20_000], 20_000)));
        model.Graph.Nodes.Add(constant);
        var branch = new Node { OpType = "If" };
        branch.Inputs.Add("cond");
        branch.Outputs.Add("out");
        branch.Attributes.Add(NodeAttribute.FromGraph("then_branch", inner.Graph));
        branch.Attributes.Add(NodeAttribute.FromGraph("else_branch", ModelBuilder.WithWeights(7).Graph));
        model.Graph.Nodes.Add(branch);

        byte[] bytes = OnnxModelSaver.SaveToBytes(model);
        OnnxModel loaded = OnnxModelLoader.LoadFromBytes(bytes);

        Assert.Empty(IrComparer.Differences(model, loaded));
        Assert.Equal(bytes, OnnxModelSaver.SaveToBytes(loaded));
    }

    [Fact]
    public void A_file_that_names_the_internal_buffer_location_itself_is_refused()
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxModelSaver.SaveToBytes(ModelBuilder.WithWeights(4)));
        TensorProto t = proto.Graph.Initializer[0];
        t.ClearRawData();
        t.DataLocation = TensorProto.Types.DataLocation.External;
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "\0quantbuild-source-buffer" });
        t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "0" });
        t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "16" });

        var error = Assert.Throws<QuantBuildException>(() =>
            OnnxModelLoader.LoadFromBytes(Google.Protobuf.MessageExtensions.ToByteArray(proto), Path.GetTempPath(), "spoof.onnx"));

        Assert.Equal("QB1106", error.Code);
    }
}
