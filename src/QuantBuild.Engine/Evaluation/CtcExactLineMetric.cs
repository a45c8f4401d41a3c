using System.Text;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Evaluation;

/// <summary>
/// Exact-line accuracy of a CTC text recognizer in percent: each output row [steps, classes] is decoded greedily
/// (argmax per step, lowest index on ties, repeats merged, blanks dropped) through a character dictionary, and a
/// line counts only when the decoded text equals its label exactly (spaces at the ends aside: a crop's margin reads
/// as a space). A dropped space inside the line is a wrong line, which is the error int8 recognizers make and
/// per-character scores hide.
/// </summary>
/// <remarks>
/// Classes follow PaddleOCR's CTC layout: class 0 is the blank, classes 1..D are the dictionary's lines in order, and
/// a model with D + 2 classes has the space character appended last (PaddleOCR's <c>use_space_char</c>). Labels are
/// each line's Unicode code points, zero-padded: numpy's own fixed-width string layout read as int32.
/// </remarks>
public sealed class CtcExactLineMetric : IMetric
{
    private readonly IReadOnlyList<string> _dictionary;
    private readonly string _dictionaryPath;

    /// <summary>A metric decoding through <paramref name="dictionary"/> (the dictionary file's lines, blank and space not included).</summary>
    /// <param name="dictionary">The characters of classes 1..D.</param>
    /// <param name="dictionaryPath">The file they came from, named in errors.</param>
    public CtcExactLineMetric(IReadOnlyList<string> dictionary, string dictionaryPath)
    {
        _dictionary = dictionary;
        _dictionaryPath = dictionaryPath;
    }

    /// <inheritdoc />
    public string Name => "ctc_exact_line";

    /// <inheritdoc />
    public string Unit => "%";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public bool NeedsLabels => true;

    /// <inheritdoc />
    public bool NeedsReference => false;

    /// <inheritdoc />
    public double IdealValue => 100;

    /// <summary>Reads a dictionary file: one entry per line, UTF-8, the final newline ending the last entry (as PaddleOCR reads it).</summary>
    public static CtcExactLineMetric Load(string dictionaryPath) => new(ReadDictionary(dictionaryPath), dictionaryPath);

    /// <summary>The dictionary file's entries in class order (class 1 first).</summary>
    public static IReadOnlyList<string> ReadDictionary(string path)
    {
        string text = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        var lines = new List<string>(text.Split('\n'));
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines.Select(l => l.TrimEnd('\r')).ToList();
    }

    /// <summary>Why <paramref name="path"/> cannot be a CTC dictionary (not UTF-8, empty, an empty entry), or null when it can.</summary>
    public static string? DictionaryProblem(string path)
    {
        IReadOnlyList<string> entries;
        try
        {
            entries = ReadDictionary(path);
        }
        catch (DecoderFallbackException)
        {
            return $"{path} is not UTF-8 text";
        }

        if (entries.Count == 0)
        {
            return $"{path} is empty";
        }

        for (int i = 0; i < entries.Count; i++)
        {
            if (entries[i].Length == 0)
            {
                return $"line {i + 1} of {path} is empty, and every line is one class";
            }
        }

        return null;
    }

    /// <summary>The class table for a model with <paramref name="classes"/> classes: blank (null), the dictionary, and the space when there is room for it.</summary>
    public string?[] ClassTable(int classes)
    {
        int d = _dictionary.Count;
        if (classes != d + 1 && classes != d + 2)
        {
            throw new QuantBuildException("QB1300",
                $"The scored output has {classes} classes per step, but the CTC dictionary {_dictionaryPath} has {d} entries (expected {d + 1} classes with the blank, or {d + 2} with the space appended).",
                "set evaluation.dictionary to the character file published with this recognizer, and evaluation.output to its per-step class scores");
        }

        var table = new string?[classes];
        for (int c = 0; c < d; c++)
        {
            table[c + 1] = _dictionary[c];
        }

        if (classes == d + 2)
        {
            table[d + 1] = " ";
        }

        return table;
    }

    /// <summary>Greedy CTC decoding of one row: <paramref name="scores"/> holds steps × classes scores, class 0 is the blank.</summary>
    public static string Decode(ReadOnlySpan<float> scores, string?[] table)
    {
        int classes = table.Length;
        var text = new StringBuilder();
        int previous = -1;
        for (int t = 0; t < scores.Length / classes; t++)
        {
            int best = AgreementMetric.ArgMax(scores.Slice(t * classes, classes));
            if (best != previous && table[best] is { } character)
            {
                text.Append(character);
            }

            previous = best;
        }

        return text.ToString();
    }

    /// <summary>
    /// True when <paramref name="decoded"/> reads as <paramref name="label"/>: equal once spaces at either end are
    /// removed, because a crop's margin decodes as a space on real recognizers and is not text; a space inside the
    /// line counts like any character.
    /// </summary>
    public static bool SameLine(string decoded, string label) => decoded.Trim(' ') == label.Trim(' ');

    /// <summary>Row <paramref name="row"/> of a code-point label tensor [n, length] as text (zeros end it).</summary>
    public static string LabelText(DenseTensor labels, int row)
    {
        int length = labels.Rank == 2 ? (int)labels.Shape[1] : 0;
        var text = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            long code = TopKMetric.LabelAt(labels, row * length + i);
            if (code == 0)
            {
                break;
            }

            if (code < 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            {
                throw new QuantBuildException("QB1301", $"Label row {row} holds {code}, which is not a Unicode code point.",
                    "write evaluation.labels as each line's code points padded with 0 (numpy: np.array(texts, dtype='<U40').view(np.int32).reshape(n, 40))");
            }

            text.Append(char.ConvertFromUtf32((int)code));
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public IMetricAccumulator Start() => new Tally(this);

    private sealed class Tally(CtcExactLineMetric metric) : IMetricAccumulator
    {
        private string?[]? _table;
        private long _exact;
        private long _rows;

        public void Add(MetricBatch batch)
        {
            DenseTensor labels = batch.Labels ?? throw new InvalidOperationException("ctc_exact_line needs labels.");
            DenseTensor output = batch.Output;
            if (output.Rank != 3)
            {
                throw new QuantBuildException("QB1300",
                    $"ctc_exact_line reads per-step class scores [n, steps, classes], but the scored output is {output}.",
                    "set evaluation.output to the recognizer's CTC output (PaddleOCR: the softmax after the head)");
            }

            int rows = (int)output.Shape[0];
            int perRow = (int)(output.Shape[1] * output.Shape[2]);
            _table ??= metric.ClassTable((int)output.Shape[2]);
            if (labels.Rank != 2 || labels.Shape[0] != rows)
            {
                throw new QuantBuildException("QB1256", $"The scored output has {rows} lines but the labels of this batch are {labels}.",
                    "write evaluation.labels as [n, max_length] code points, one row per evaluation sample");
            }

            ReadOnlySpan<float> scores = output.AsSpan<float>();
            for (int r = 0; r < rows; r++)
            {
                if (SameLine(Decode(scores.Slice(r * perRow, perRow), _table), LabelText(labels, r)))
                {
                    _exact++;
                }
            }

            _rows += rows;
        }

        public double Result() => _rows == 0 ? 0 : 100.0 * _exact / _rows;
    }
}
