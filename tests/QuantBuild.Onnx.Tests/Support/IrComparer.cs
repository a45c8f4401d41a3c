using System.Collections;
using System.Reflection;

namespace QuantBuild.Onnx.Tests.Support;

/// <summary>
/// Deep structural equality over the IR by reflection, so a field the IR gains later is compared without
/// anyone remembering to add it here. Floats compare by bits (NaN equals NaN, -0 differs from 0) and tensor
/// bytes compare as bytes. Returns the paths that differ, for a readable failure.
/// </summary>
public sealed class IrComparer
{
    private readonly HashSet<string> _ignored;
    private readonly List<string> _differences = new();

    private IrComparer(IEnumerable<string> ignoredProperties) => _ignored = new HashSet<string>(ignoredProperties);

    /// <summary>The differences between two object graphs (empty when equal).</summary>
    /// <param name="expected">The first graph.</param>
    /// <param name="actual">The second graph.</param>
    /// <param name="ignoredProperties">Properties to skip, as <c>TypeName.PropertyName</c>.</param>
    public static IReadOnlyList<string> Differences(object? expected, object? actual, params string[] ignoredProperties)
    {
        var comparer = new IrComparer(ignoredProperties);
        comparer.Compare(expected, actual, "model");
        return comparer._differences;
    }

    private void Compare(object? a, object? b, string path)
    {
        if (_differences.Count >= 20)
        {
            return;
        }

        if (a is null || b is null)
        {
            if (a is not null || b is not null)
            {
                _differences.Add($"{path}: {Show(a)} vs {Show(b)}");
            }

            return;
        }

        Type type = a.GetType();
        if (type != b.GetType())
        {
            _differences.Add($"{path}: type {type.Name} vs {b.GetType().Name}");
            return;
        }

        switch (a)
        {
            case float fa:
                Same(BitConverter.SingleToInt32Bits(fa) == BitConverter.SingleToInt32Bits((float)b), a, b, path);
                return;
            case double da:
                Same(BitConverter.DoubleToInt64Bits(da) == BitConverter.DoubleToInt64Bits((double)b), a, b, path);
                return;
            case string or Enum or bool or byte or int or long or uint or ulong or short or ushort or sbyte or char:
                Same(a.Equals(b), a, b, path);
                return;
            case byte[] ba:
                Same(ba.AsSpan().SequenceEqual((byte[])b), $"{ba.Length} bytes", $"{((byte[])b).Length} bytes", path);
                return;
            case ReadOnlyMemory<byte> ma:
                var mb = (ReadOnlyMemory<byte>)b;
                Same(ma.Span.SequenceEqual(mb.Span), $"{ma.Length} bytes", $"{mb.Length} bytes", path);
                return;
            case Memory<byte> wa:
                var wb = (Memory<byte>)b;
                Same(wa.Span.SequenceEqual(wb.Span), $"{wa.Length} bytes", $"{wb.Length} bytes", path);
                return;
            case IEnumerable ea:
                // IR lists are IrList<T> (IReadOnlyList<T>, not IList): compare any sequence element by element.
                var la = ea.Cast<object?>().ToList();
                var lb = ((IEnumerable)b).Cast<object?>().ToList();
                if (la.Count != lb.Count)
                {
                    _differences.Add($"{path}: {la.Count} items vs {lb.Count}");
                    return;
                }

                for (int i = 0; i < la.Count; i++)
                {
                    Compare(la[i], lb[i], $"{path}[{i}]");
                }

                return;
        }

        foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.GetMethod is null || _ignored.Contains($"{type.Name}.{p.Name}"))
            {
                continue;
            }

            Compare(p.GetValue(a), p.GetValue(b), $"{path}.{p.Name}");
        }
    }

    private void Same(bool equal, object a, object b, string path)
    {
        if (!equal)
        {
            _differences.Add($"{path}: {Show(a)} vs {Show(b)}");
        }
    }

    private static string Show(object? value) => value is null ? "null" : value.ToString() ?? "?";
}
