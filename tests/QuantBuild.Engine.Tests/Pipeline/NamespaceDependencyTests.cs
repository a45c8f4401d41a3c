using System.Reflection;
using System.Reflection.Emit;
using QuantBuild.Engine.Pipeline;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// The pipeline sits on top: it calls Analysis, Fallback, Cache and Reports, and none of them calls back into it
/// (issue 14). Checked on the compiled assembly: every type a namespace's code names (signatures, fields, base types,
/// attributes, and every token in its method bodies, closures included).
/// </summary>
public sealed class NamespaceDependencyTests
{
    private const string Root = "QuantBuild.Engine.";

    private static readonly Lazy<Dictionary<string, HashSet<string>>> Edges = new(Build);

    [Theory]
    [InlineData("Analysis")]
    [InlineData("Fallback")]
    [InlineData("Cache")]
    [InlineData("Reports")]
    [InlineData("Results")]
    [InlineData("Evaluation")]
    public void Nothing_below_the_pipeline_references_it(string below)
    {
        Assert.Contains(Root + below, Edges.Value.Keys);
        Assert.DoesNotContain(Root + "Pipeline", Reachable(Root + below));
    }

    [Fact]
    public void The_pipeline_does_call_the_namespaces_it_sits_on()
    {
        // Guards the check itself: a scanner that saw no references would pass the test above vacuously.
        HashSet<string> direct = Edges.Value[Root + "Pipeline"];
        Assert.Superset(new HashSet<string> { Root + "Analysis", Root + "Fallback", Root + "Cache", Root + "Reports", Root + "Results" }, direct);
    }

    [Fact]
    public void No_namespace_of_the_engine_is_in_a_cycle_with_the_pipeline()
    {
        foreach (string ns in Edges.Value.Keys.Where(n => n != Root + "Pipeline"))
        {
            bool up = Reachable(ns).Contains(Root + "Pipeline");
            bool down = Reachable(Root + "Pipeline").Contains(ns);
            Assert.False(up && down, $"{ns} and {Root}Pipeline reach each other");
        }
    }

    private static HashSet<string> Reachable(string from)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([from]);
        while (stack.TryPop(out string? ns))
        {
            foreach (string next in Edges.Value.GetValueOrDefault(ns) ?? [])
            {
                if (seen.Add(next))
                {
                    stack.Push(next);
                }
            }
        }

        return seen;
    }

    private static Dictionary<string, HashSet<string>> Build()
    {
        Assembly engine = typeof(QuantizePipeline).Assembly;
        var edges = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (Type type in engine.GetTypes())
        {
            if (NamespaceOf(type) is not { } from)
            {
                continue;
            }

            HashSet<string> to = edges.TryGetValue(from, out HashSet<string>? set) ? set : edges[from] = new HashSet<string>(StringComparer.Ordinal);
            foreach (Type used in Referenced(type))
            {
                if (used.Assembly == engine && NamespaceOf(used) is { } target && target != from)
                {
                    to.Add(target);
                }
            }
        }

        return edges;
    }

    // Nested and compiler-generated types belong to the namespace of the type they sit in.
    private static string? NamespaceOf(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type.Namespace is { } ns && ns.StartsWith(Root, StringComparison.Ordinal) ? ns : null;
    }

    private static IEnumerable<Type> Referenced(Type type)
    {
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new List<Type>();
        void Add(Type? t)
        {
            if (t is null)
            {
                return;
            }

            if (t.HasElementType)
            {
                Add(t.GetElementType());
                return;
            }

            found.Add(t);
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                foreach (Type argument in t.GetGenericArguments())
                {
                    Add(argument);
                }
            }
        }

        Add(type.BaseType);
        foreach (Type i in type.GetInterfaces())
        {
            Add(i);
        }

        foreach (CustomAttributeData a in type.CustomAttributes)
        {
            Add(a.AttributeType);
        }

        foreach (FieldInfo f in type.GetFields(All))
        {
            Add(f.FieldType);
        }

        foreach (PropertyInfo p in type.GetProperties(All))
        {
            Add(p.PropertyType);
        }

        foreach (MethodBase m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo mi)
            {
                Add(mi.ReturnType);
            }

            foreach (ParameterInfo p in m.GetParameters())
            {
                Add(p.ParameterType);
            }

            foreach (Type t in BodyTokens(m))
            {
                Add(t);
            }
        }

        return found;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    // Walks the IL and resolves every type, method, field and token operand to the type it names or belongs to.
    private static IEnumerable<Type> BodyTokens(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        Module module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int at = 0;
        while (at < il.Length)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            OpCode op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineType:
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                case OperandType.InlineTok:
                    int token = BitConverter.ToInt32(il, at);
                    MemberInfo? member = null;
                    try
                    {
                        member = module.ResolveMember(token, typeArgs, methodArgs);
                    }
                    catch (ArgumentException)
                    {
                    }

                    if (member is Type t)
                    {
                        yield return t;
                    }
                    else if (member?.DeclaringType is { } owner)
                    {
                        yield return owner;
                        if (member is MethodInfo called)
                        {
                            yield return called.ReturnType;
                        }
                        else if (member is FieldInfo field)
                        {
                            yield return field.FieldType;
                        }
                    }

                    at += 4;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + (4 * BitConverter.ToInt32(il, at));
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    at += 8;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    at += 1;
                    break;
                case OperandType.InlineVar:
                    at += 2;
                    break;
                default:
                    at += 4;
                    break;
            }
        }
    }
}
