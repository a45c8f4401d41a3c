using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// Parses the .npy preamble and header. The header is a Python dict literal written by numpy's
/// <c>repr</c>, so a small literal parser is enough; we never evaluate anything.
/// </summary>
internal static class NpyHeaderParser
{
    /// <summary>Magic (6) + version (2) + the longest length field (4).</summary>
    public const int MaxPreambleLength = 12;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>
    /// Checks magic and version in <paramref name="preamble"/> (at least the first 8 bytes, 12 for v2/v3) and
    /// returns the length of the preamble and of the header text that follows it.
    /// </summary>
    public static (int PreambleLength, long HeaderLength, int Major, int Minor) ReadPreamble(ReadOnlySpan<byte> preamble, long totalLength, DataFileLocation at)
    {
        if (preamble.Length < 6 || !preamble[..6].SequenceEqual(Magic))
        {
            // A file shorter than the magic that matches it so far was cut short rather than being something else.
            if (preamble.Length < 6 && Magic.StartsWith(preamble))
            {
                throw DataFileErrors.TruncatedData(at, MaxPreambleLength, totalLength);
            }

            throw DataFileErrors.NotNpy(at);
        }

        if (preamble.Length < 8)
        {
            throw DataFileErrors.TruncatedData(at, MaxPreambleLength, totalLength);
        }

        int major = preamble[6];
        int minor = preamble[7];
        if (minor != 0 || major is < 1 or > 3)
        {
            throw DataFileErrors.Version(at, major, minor);
        }

        int lengthBytes = major == 1 ? 2 : 4;
        if (preamble.Length < 8 + lengthBytes)
        {
            throw DataFileErrors.TruncatedData(at, 8 + lengthBytes, totalLength);
        }

        long headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        return (8 + lengthBytes, headerLength, major, minor);
    }

    /// <summary>Parses the header dict and checks that the data is something we can hand out as a dense tensor.</summary>
    public static NpyHeader ParseHeader(ReadOnlySpan<byte> headerBytes, int major, int minor, long dataOffset, DataFileLocation at)
    {
        string text;
        try
        {
            // v1 and v2 headers are latin-1; v3 exists only to allow UTF-8 (structured field names).
            text = major == 3
                ? new UTF8Encoding(false, true).GetString(headerBytes)
                : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw DataFileErrors.Malformed(at, "the header text is not valid UTF-8");
        }

        Dictionary<string, object?> dict;
        try
        {
            var reader = new LiteralReader(text);
            dict = reader.ReadTopLevelDict();
        }
        catch (FormatException e)
        {
            throw DataFileErrors.Malformed(at, e.Message);
        }

        if (!dict.TryGetValue("descr", out object? descrValue) || !dict.TryGetValue("fortran_order", out object? fortranValue)
            || !dict.TryGetValue("shape", out object? shapeValue))
        {
            throw DataFileErrors.Malformed(at, "it must have the keys 'descr', 'fortran_order' and 'shape'");
        }

        if (descrValue is not string descr)
        {
            // A list descr is numpy's spelling of a structured (record) dtype.
            throw DataFileErrors.Dtype(at, "structured (record)");
        }

        if (fortranValue is not bool fortran)
        {
            throw DataFileErrors.Malformed(at, "'fortran_order' must be True or False");
        }

        if (shapeValue is not List<object?> dims)
        {
            throw DataFileErrors.Malformed(at, "'shape' must be a tuple of integers");
        }

        var shape = new long[dims.Count];
        for (int i = 0; i < dims.Count; i++)
        {
            if (dims[i] is not long d || d < 0)
            {
                throw DataFileErrors.Malformed(at, "'shape' must be a tuple of non-negative integers");
            }

            shape[i] = d;
        }

        ElementType type = ParseDescr(descr, at);
        if (fortran && CountDimsAboveOne(shape) > 1)
        {
            throw DataFileErrors.Fortran(at);
        }

        int elementSize = ElementTypeInfo.BitsPerElement(type) / 8;
        try
        {
            long bytes = elementSize;
            foreach (long d in shape)
            {
                bytes = checked(bytes * d);
            }

            _ = checked(dataOffset + bytes);
        }
        catch (OverflowException)
        {
            throw DataFileErrors.Malformed(at, $"shape ({string.Join(", ", shape)}) is too large to address");
        }

        return new NpyHeader(major, minor, descr, type, shape, dataOffset);
    }

    // With at most one dimension longer than 1, Fortran and C order lay the bytes out identically, and numpy
    // still sets fortran_order=True for some of those (e.g. a transposed row vector); reading them is correct.
    private static int CountDimsAboveOne(long[] shape)
    {
        int n = 0;
        foreach (long d in shape)
        {
            if (d > 1)
            {
                n++;
            }
        }

        return n;
    }

    private static ElementType ParseDescr(string descr, DataFileLocation at)
    {
        if (descr.Length < 3)
        {
            throw DataFileErrors.Dtype(at, descr);
        }

        char order = descr[0];
        string code = descr[1..];
        ElementType type = code switch
        {
            "f2" => ElementType.Float16,
            "f4" => ElementType.Float,
            "f8" => ElementType.Double,
            "i1" => ElementType.Int8,
            "u1" => ElementType.UInt8,
            "i2" => ElementType.Int16,
            "u2" => ElementType.UInt16,
            "i4" => ElementType.Int32,
            "u4" => ElementType.UInt32,
            "i8" => ElementType.Int64,
            "u8" => ElementType.UInt64,
            "b1" => ElementType.Bool,
            "c8" => ElementType.Complex64,
            "c16" => ElementType.Complex128,
            _ => ElementType.Undefined,
        };

        if (type == ElementType.Undefined || order is not ('<' or '>' or '|' or '='))
        {
            throw DataFileErrors.Dtype(at, descr);
        }

        // Byte order only matters for multi-byte elements; numpy writes '|' for those but older writers used '<' or '>'.
        // '=' (native) never comes out of numpy.save, which always resolves it; we only run little-endian.
        if (order == '>' && ElementTypeInfo.BitsPerElement(type) > 8)
        {
            throw DataFileErrors.BigEndianData(at, descr);
        }

        return type;
    }

    /// <summary>Reads the subset of Python literals numpy headers use: dicts, tuples/lists, strings, ints, True/False/None.</summary>
    private ref struct LiteralReader
    {
        private readonly ReadOnlySpan<char> _text;
        private int _pos;

        public LiteralReader(string text)
        {
            _text = text;
            _pos = 0;
        }

        public Dictionary<string, object?> ReadTopLevelDict()
        {
            SkipSpace();
            if (Peek() != '{')
            {
                throw new FormatException("it does not start with a '{' dict");
            }

            var dict = (Dictionary<string, object?>)ReadValue()!;
            SkipSpace();
            if (_pos != _text.Length)
            {
                throw new FormatException($"unexpected text after the dict at offset {_pos}");
            }

            return dict;
        }

        private object? ReadValue()
        {
            SkipSpace();
            char c = Peek();
            switch (c)
            {
                case '{':
                    return ReadDict();
                case '(':
                    return ReadSequence(')');
                case '[':
                    return ReadSequence(']');
                case '\'' or '"':
                    return ReadString();
                default:
                    if (c == '-' || char.IsAsciiDigit(c))
                    {
                        return ReadInteger();
                    }

                    if (TryWord("True"))
                    {
                        return true;
                    }

                    if (TryWord("False"))
                    {
                        return false;
                    }

                    if (TryWord("None"))
                    {
                        return null;
                    }

                    throw new FormatException($"unexpected '{c}' at offset {_pos}");
            }
        }

        private Dictionary<string, object?> ReadDict()
        {
            Expect('{');
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace();
                if (Peek() == '}')
                {
                    _pos++;
                    return dict;
                }

                if (Peek() is not ('\'' or '"'))
                {
                    throw new FormatException($"expected a quoted key at offset {_pos}");
                }

                string key = ReadString();
                SkipSpace();
                Expect(':');
                object? value = ReadValue();
                if (!dict.TryAdd(key, value))
                {
                    throw new FormatException($"key '{key}' appears twice");
                }

                SkipSpace();
                if (Peek() == ',')
                {
                    _pos++;
                }
                else if (Peek() != '}')
                {
                    throw new FormatException($"expected ',' or '}}' at offset {_pos}");
                }
            }
        }

        private List<object?> ReadSequence(char close)
        {
            _pos++;
            var items = new List<object?>();
            while (true)
            {
                SkipSpace();
                if (Peek() == close)
                {
                    _pos++;
                    return items;
                }

                items.Add(ReadValue());
                SkipSpace();
                if (Peek() == ',')
                {
                    _pos++;
                }
                else if (Peek() != close)
                {
                    throw new FormatException($"expected ',' or '{close}' at offset {_pos}");
                }
            }
        }

        private string ReadString()
        {
            char quote = _text[_pos++];
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length)
                {
                    throw new FormatException("a string is not closed");
                }

                char c = _text[_pos++];
                if (c == quote)
                {
                    return sb.ToString();
                }

                if (c == '\\')
                {
                    if (_pos >= _text.Length)
                    {
                        throw new FormatException("a string is not closed");
                    }

                    // Only simple escapes occur in dtype and field names; keep the escaped character itself.
                    c = _text[_pos++];
                }

                sb.Append(c);
            }
        }

        private long ReadInteger()
        {
            int start = _pos;
            if (Peek() == '-')
            {
                _pos++;
            }

            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                _pos++;
            }

            if (!long.TryParse(_text[start.._pos], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            {
                throw new FormatException($"'{_text[start.._pos].ToString()}' is not an integer that fits 64 bits");
            }

            // Python 2 era numpy wrote long dimensions as 5L.
            if (_pos < _text.Length && _text[_pos] == 'L')
            {
                _pos++;
            }

            return value;
        }

        private bool TryWord(string word)
        {
            if (_text[_pos..].StartsWith(word, StringComparison.Ordinal))
            {
                _pos += word.Length;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw new FormatException($"expected '{c}' at offset {_pos}");
            }

            _pos++;
        }

        private readonly char Peek()
        {
            if (_pos >= _text.Length)
            {
                throw new FormatException("it ends early");
            }

            return _text[_pos];
        }

        private void SkipSpace()
        {
            while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r')
            {
                _pos++;
            }
        }
    }
}
