using Google.Protobuf;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Tests.Support;

namespace QuantBuild.Onnx.Tests;

public sealed class TypedTensorDataTests
{
    [Fact]
    public void Float_data_becomes_little_endian_raw_bytes()
    {
        var t = Tensor(ElementType.Float, 2);
        t.FloatData.Add([1.5f, -2f]);
        Assert.Equal([0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0], Load(t).Data.ToArray());
    }

    [Fact]
    public void Int32_data_of_float16_keeps_two_bytes_per_element()
    {
        var t = Tensor(ElementType.Float16, 2);
        t.Int32Data.Add([0x3C00, 0xC000]);
        Assert.Equal([0x00, 0x3C, 0x00, 0xC0], Load(t).Data.ToArray());
    }

    [Fact]
    public void Int32_data_of_int8_and_bool_keeps_one_byte_per_element()
    {
        var t = Tensor(ElementType.Int8, 3);
        t.Int32Data.Add([-1, 0, 127]);
        Assert.Equal([0xFF, 0x00, 0x7F], Load(t).Data.ToArray());
    }

    [Fact]
    public void Int32_data_of_int4_holds_already_packed_pairs()
    {
        var t = Tensor(ElementType.Int4, 3);
        t.Int32Data.Add([0x21, 0x03]);
        Assert.Equal([0x21, 0x03], Load(t).Data.ToArray());
    }

    [Fact]
    public void Uint64_data_of_uint32_keeps_four_bytes_per_element()
    {
        var t = Tensor(ElementType.UInt32, 1);
        t.Uint64Data.Add(0xDEADBEEF);
        Assert.Equal([0xEF, 0xBE, 0xAD, 0xDE], Load(t).Data.ToArray());
    }

    [Fact]
    public void Int64_and_double_data_keep_eight_bytes_per_element()
    {
        var i = Tensor(ElementType.Int64, 1);
        i.Int64Data.Add(-2);
        Assert.Equal(BitConverter.GetBytes(-2L), Load(i).Data.ToArray());

        var d = Tensor(ElementType.Double, 1);
        d.DoubleData.Add(0.25);
        Assert.Equal(BitConverter.GetBytes(0.25), Load(d).Data.ToArray());
    }

    [Fact]
    public void Typed_data_is_saved_back_as_raw_data_with_the_same_values()
    {
        var t = Tensor(ElementType.Float, 2);
        t.FloatData.Add([1.5f, -2f]);
        OnnxModel model = LoadModel(t);

        TensorProto saved = ModelProto.Parser.ParseFrom(OnnxModelSaver.SaveToBytes(model)).Graph.Initializer[0];

        Assert.Empty(saved.FloatData);
        Assert.Equal(model.Graph.Initializers[0].Data.ToArray(), saved.RawData.ToByteArray());
    }

    [Fact]
    public void An_attribute_without_a_type_field_gets_its_type_from_its_value()
    {
        var model = new ModelProto { IrVersion = 1, Graph = new GraphProto { Name = "g" } };
        var node = new NodeProto { OpType = "LeakyRelu" };
        node.Attribute.Add(new AttributeProto { Name = "alpha", F = 0.1f });
        model.Graph.Node.Add(node);

        NodeAttribute alpha = OnnxModelLoader.LoadFromBytes(model.ToByteArray()).Graph.Nodes[0].Attributes[0];

        Assert.Equal(Abstractions.Ir.AttributeType.Float, alpha.Type);
        Assert.Equal(0.1f, alpha.Float);
    }

    [Fact]
    public void The_comparer_used_for_round_trips_notices_a_single_changed_byte()
    {
        OnnxModel a = ModelBuilder.WithWeights(8);
        OnnxModel b = OnnxModelLoader.LoadFromBytes(OnnxModelSaver.SaveToBytes(a));
        byte[] changed = b.Graph.Initializers[0].Data.ToArray();
        changed[5] ^= 1;
        b.Graph.Initializers[0].Data = changed;

        Assert.Single(IrComparer.Differences(a, b));
    }

    private static TensorProto Tensor(ElementType type, long count)
    {
        var t = new TensorProto { Name = "t", DataType = (int)type };
        t.Dims.Add(count);
        return t;
    }

    private static TensorValue Load(TensorProto tensor) => LoadModel(tensor).Graph.Initializers[0];

    private static OnnxModel LoadModel(TensorProto tensor)
    {
        var model = new ModelProto { IrVersion = 9, Graph = new GraphProto { Name = "g" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.Graph.Initializer.Add(tensor);
        return OnnxModelLoader.LoadFromBytes(model.ToByteArray());
    }
}
