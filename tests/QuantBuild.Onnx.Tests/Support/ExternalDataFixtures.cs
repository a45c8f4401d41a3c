using Google.Protobuf;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Tests.Support;

/// <summary>Hand-crafted external-data layouts the saver would never write, for testing the reader's defences.</summary>
public static class ExternalDataFixtures
{
    /// <summary>Serializes the model with every tensor that has an <see cref="TensorValue.Preserved"/> pointing where it says.</summary>
    public static byte[] SaveWithExternalReference(OnnxModel model)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxModelSaver.SaveToBytes(model));
        foreach (TensorProto t in proto.Graph.Initializer)
        {
            TensorValue? value = model.Graph.Initializers.FirstOrDefault(i => i.Name == t.Name);
            if ((value is null ? null : OnnxTensorFields.ExternalDataOf(value)) is not ExternalDataReference reference)
            {
                continue;
            }

            t.ClearRawData();
            t.DataLocation = TensorProto.Types.DataLocation.External;
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = reference.Location });
            t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = (reference.Offset ?? 0).ToString() });
            t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = (reference.Length ?? 0).ToString() });
        }

        return proto.ToByteArray();
    }
}
