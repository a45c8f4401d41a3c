using System.Runtime.InteropServices;
using System.Text;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;

namespace Fixture.NativePlugin;

/// <summary>Calls into a native library that exists only in this plugin's runtimes/&lt;rid&gt;/native folder.</summary>
public sealed unsafe class Crc32Pass : QuantizationPass<NoPassOptions>
{
    public override string Name => "fixture-native";

    public static uint Crc32(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes)
        {
            return CompressionNative_Crc32(0, p, bytes.Length);
        }
    }

    public override void Run(IPassContext context, NoPassOptions options) =>
        context.Model.MetadataProps.Add(new MetadataEntry(Name, Crc32("hello").ToString("x8")));

    [DllImport("fixturenative")]
    private static extern uint CompressionNative_Crc32(uint crc, byte* buffer, int length);
}
