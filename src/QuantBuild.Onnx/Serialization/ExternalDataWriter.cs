using System.Globalization;
using QuantBuild.Onnx.Proto;

namespace QuantBuild.Onnx.Serialization;

/// <summary>Moves large tensors' bytes out of the messages into one side file, at aligned offsets.</summary>
internal static class ExternalDataWriter
{
    /// <summary>
    /// Rewrites qualifying tensors to point into <paramref name="dataName"/> and writes their bytes to a temp
    /// file for it. Returns null when no tensor qualifies, so no empty side file appears.
    /// </summary>
    public static AtomicFile? MoveOut(List<TensorProto> tensors, string modelPath, string dataName, long threshold, int alignment)
    {
        string folder = Path.GetDirectoryName(modelPath)!;
        string dataPath = Path.GetFullPath(Path.Combine(folder, dataName));
        if (Path.IsPathRooted(dataName) || !dataPath.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"External data file '{dataName}' must be a relative path inside the model's folder.", nameof(dataName));
        }

        string location = dataName.Replace('\\', '/');
        alignment = Math.Max(1, alignment);
        AtomicFile? file = null;
        try
        {
            long position = 0;
            byte[] padding = new byte[alignment];
            foreach (TensorProto t in tensors)
            {
                if (!t.HasRawData || t.RawData.Length == 0 || t.RawData.Length < threshold)
                {
                    continue;
                }

                file ??= new AtomicFile(dataPath);
                long aligned = (position + alignment - 1) / alignment * alignment;
                file.Stream.Write(padding, 0, (int)(aligned - position));
                file.Stream.Write(t.RawData.Span);
                long length = t.RawData.Length;
                position = aligned + length;

                t.ClearRawData();
                t.DataLocation = TensorProto.Types.DataLocation.External;
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
                t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = aligned.ToString(CultureInfo.InvariantCulture) });
                t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(CultureInfo.InvariantCulture) });
            }

            return file;
        }
        catch
        {
            file?.Dispose();
            throw;
        }
    }
}
