using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Binds a recipe pass's yaml options to a typed options class: snake_case keys to PascalCase public settable (or
/// init) properties; numbers, bools, strings, enums by name, lists, nested option classes; <c>required</c> and
/// DataAnnotations attributes (<see cref="RangeAttribute"/> and friends) checked. Every problem is reported at the
/// option's own yaml line, all of them at once, so plugin options get the same errors as the core config.
/// </summary>
public static class PassOptionsBinder
{
    /// <summary>Binds <paramref name="options"/> to a new <typeparamref name="T"/>.</summary>
    /// <param name="options">The pass's options (<see cref="RecipePass.Options"/>).</param>
    /// <param name="passName">The pass name, for messages.</param>
    /// <exception cref="ConfigValidationException">Any option is unknown, of the wrong type, missing or out of range.</exception>
    public static T Bind<T>(ConfigMapping options, string? passName = null)
        where T : class
    {
        var errors = new List<QuantBuildException>();
        object? bound = Bind(typeof(T), options, errors, passName);
        if (errors.Count > 0 || bound is null)
        {
            throw new ConfigValidationException(errors);
        }

        return (T)bound;
    }

    /// <summary>
    /// Binds <paramref name="options"/> to a new <paramref name="type"/>, adding every problem to <paramref name="errors"/>
    /// (so config validation can report pass options together with everything else); null when there were errors.
    /// </summary>
    public static object? Bind(Type type, ConfigMapping options, ICollection<QuantBuildException> errors, string? passName = null)
    {
        int before = errors.Count;
        object result = BindObject(type, options, errors, passName is null ? "option" : $"{passName} option", string.Empty);
        return errors.Count > before ? null : result;
    }

    /// <summary>The yaml key for a property name: <c>BlockSize</c> → <c>block_size</c>, <c>UseFP16</c> → <c>use_fp16</c>.</summary>
    public static string ToSnakeCase(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0)
            {
                bool prevLowerOrDigit = char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]);
                bool acronymEnds = char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (prevLowerOrDigit || acronymEnds)
                {
                    sb.Append('_');
                }
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }

    private static object BindObject(Type type, ConfigMapping map, ICollection<QuantBuildException> errors, string what, string prefix)
    {
        object target = Activator.CreateInstance(type)
            ?? throw new ArgumentException($"{type} needs a public parameterless constructor to bind options to.", nameof(type));
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
            .ToDictionary(p => ToSnakeCase(p.Name), StringComparer.Ordinal);

        foreach (ConfigEntry entry in map.Entries)
        {
            if (!properties.ContainsKey(entry.Name))
            {
                errors.Add(Error(ConfigErrorCodes.UnknownKey,
                    $"unknown {what} '{prefix}{entry.Name}'.{NameSuggester.DidYouMean(entry.Name, properties.Keys)}",
                    properties.Count == 0 ? "this pass takes no options; remove it" : $"use one of: {string.Join(", ", properties.Keys)}",
                    entry.Key.Location));
            }
        }

        foreach ((string key, PropertyInfo property) in properties)
        {
            ConfigEntry? entry = map.Find(key);
            bool given = entry is not null && entry.Value is not ConfigScalar { IsNull: true };
            if (given)
            {
                if (TryConvert(entry!.Value, property.PropertyType, errors, what, prefix + key, out object? value))
                {
                    property.SetValue(target, value);
                }
                else
                {
                    continue;
                }
            }
            else if (property.IsDefined(typeof(RequiredMemberAttribute)) || property.IsDefined(typeof(RequiredAttribute)))
            {
                errors.Add(Error(ConfigErrorCodes.MissingKey, $"missing required {what} '{prefix}{key}'",
                    $"add '{key}:' to the pass's options", map.Location));
                continue;
            }

            var context = new ValidationContext(target) { MemberName = property.Name, DisplayName = prefix + key };
            foreach (ValidationAttribute attribute in property.GetCustomAttributes<ValidationAttribute>())
            {
                if (attribute is RequiredAttribute)
                {
                    continue;
                }

                ValidationResult? result = attribute.GetValidationResult(property.GetValue(target), context);
                if (result != ValidationResult.Success && result is not null)
                {
                    errors.Add(Error(ConfigErrorCodes.OutOfRange, $"{what} '{prefix}{key}': {result.ErrorMessage}",
                        $"change '{key}' to a value that satisfies this", entry?.Value.Location ?? map.Location));
                }
            }
        }

        return target;
    }

    private static bool TryConvert(ConfigNode node, Type type, ICollection<QuantBuildException> errors, string what, string key, out object? value)
    {
        value = null;
        Type? nullable = Nullable.GetUnderlyingType(type);
        if (nullable is not null)
        {
            if (node is ConfigScalar { IsNull: true })
            {
                return true;
            }

            type = nullable;
        }

        if (typeof(ConfigNode).IsAssignableFrom(type) && type.IsInstanceOfType(node))
        {
            value = node;
            return true;
        }

        if (ElementTypeOfList(type) is { } element)
        {
            IReadOnlyList<ConfigNode> items = node is ConfigSequence seq ? seq.Items : new[] { node };
            Array array = Array.CreateInstance(element, items.Count);
            bool ok = true;
            for (int i = 0; i < items.Count; i++)
            {
                if (TryConvert(items[i], element, errors, what, $"{key}[{i}]", out object? item))
                {
                    array.SetValue(item, i);
                }
                else
                {
                    ok = false;
                }
            }

            value = type.IsArray || type.IsInterface ? array : Activator.CreateInstance(type, array);
            return ok;
        }

        if (IsOptionsClass(type))
        {
            if (node is ConfigMapping nested)
            {
                int before = errors.Count;
                value = BindObject(type, nested, errors, what, key + ".");
                return errors.Count == before;
            }

            errors.Add(WrongType(node, what, key, "a mapping of options"));
            return false;
        }

        if (node is not ConfigScalar scalar)
        {
            errors.Add(WrongType(node, what, key, Expected(type)));
            return false;
        }

        string text = scalar.Value;
        if (type.IsEnum)
        {
            string[] names = Enum.GetNames(type);
            string? match = names.FirstOrDefault(n => Fold(n) == Fold(text));
            if (match is null)
            {
                string[] yamlNames = names.Select(n => ToSnakeCase(n)).ToArray();
                errors.Add(Error(ConfigErrorCodes.UnknownValue,
                    $"{what} '{key}': unknown value '{text}'.{NameSuggester.DidYouMean(ToSnakeCase(text), yamlNames)}",
                    $"use one of: {string.Join(", ", yamlNames)}", scalar.Location));
                return false;
            }

            value = Enum.Parse(type, match);
            return true;
        }

        CultureInfo inv = CultureInfo.InvariantCulture;
        bool parsed = true;
        switch (Type.GetTypeCode(type))
        {
            case TypeCode.String: value = text; break;
            case TypeCode.Boolean: parsed = ConfigReader.TryBool(text, out bool b); value = b; break;
            case TypeCode.Int32: parsed = int.TryParse(text, NumberStyles.AllowLeadingSign, inv, out int i); value = i; break;
            case TypeCode.Int64: parsed = long.TryParse(text, NumberStyles.AllowLeadingSign, inv, out long l); value = l; break;
            case TypeCode.Double: parsed = ConfigReader.TryNumber(text, out double d); value = d; break;
            case TypeCode.Single: parsed = ConfigReader.TryNumber(text, out double f) && float.IsFinite((float)f); value = (float)f; break;
            case TypeCode.Decimal: parsed = decimal.TryParse(text, NumberStyles.Float, inv, out decimal m); value = m; break;
            default:
                throw new ArgumentException($"Option '{key}' has type {type}, which options binding does not support.");
        }

        if (!parsed)
        {
            errors.Add(WrongType(node, what, key, Expected(type)));
        }

        return parsed;
    }

    private static Type? ElementTypeOfList(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (type.IsGenericType && type != typeof(string))
        {
            Type def = type.GetGenericTypeDefinition();
            if (def == typeof(List<>) || def == typeof(IReadOnlyList<>) || def == typeof(IList<>) || def == typeof(IEnumerable<>)
                || def == typeof(IReadOnlyCollection<>) || def == typeof(ICollection<>))
            {
                return type.GetGenericArguments()[0];
            }
        }

        return null;
    }

    private static bool IsOptionsClass(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(ConfigNode).IsAssignableFrom(type) && type.GetConstructor(Type.EmptyTypes) is not null;

    private static string Expected(Type type) => Type.GetTypeCode(type) switch
    {
        TypeCode.Boolean => "true or false",
        TypeCode.Int32 or TypeCode.Int64 => "a whole number",
        TypeCode.Double or TypeCode.Single or TypeCode.Decimal => "a number",
        TypeCode.String => "a text value",
        _ => type.Name,
    };

    private static QuantBuildException WrongType(ConfigNode node, string what, string key, string expected) =>
        Error(ConfigErrorCodes.WrongType, $"{what} '{key}': expected {expected}, got {node.Describe()}", $"write {expected} for '{key}'", node.Location);

    private static QuantBuildException Error(string code, string message, string fix, SourceLocation at) =>
        new(code, message, fix, at.File, at.Line, at.Column);

    private static string Fold(string s) => s.Replace("_", string.Empty).Replace("-", string.Empty).ToLowerInvariant();
}
