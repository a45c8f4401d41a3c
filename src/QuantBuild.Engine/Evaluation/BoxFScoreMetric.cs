using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Evaluation;

/// <summary>
/// Box F-score of a DB-style text detector in percent: each probability map [n, 1, H, W] (or [n, H, W]) is turned
/// into boxes the way PaddleOCR's DB post-process does with its defaults (pixels above 0.3, connected regions whose
/// mean probability is at least 0.6, each region's box grown by area × 1.5 / perimeter), and boxes are matched one to
/// one with the labelled boxes at IoU ≥ 0.5. F = 2·matches / (predicted + labelled). A map's SQNR punishes noise in
/// places no threshold ever reads; this counts what a user of the detector gets.
/// </summary>
/// <remarks>
/// Boxes are axis-aligned, which suits rendered or scanned pages; labels are int32 [n, max_boxes, 4] rows of
/// x0, y0, x1, y1 in map pixels (x1, y1 exclusive), with rows of -1 where a page has fewer boxes.
/// </remarks>
public sealed class BoxFScoreMetric : IMetric
{
    private const float PixelThreshold = 0.3f;
    private const double BoxThreshold = 0.6;
    private const double UnclipRatio = 1.5;
    private const double MatchIou = 0.5;
    private const int MinSide = 3;

    /// <inheritdoc />
    public string Name => "box_fscore";

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

    /// <inheritdoc />
    public IMetricAccumulator Start() => new Tally();

    /// <summary>The boxes (x0, y0, x1, y1, exclusive ends) a DB post-process reads from one <paramref name="height"/> × <paramref name="width"/> map.</summary>
    public static List<(int X0, int Y0, int X1, int Y1)> Detect(ReadOnlySpan<float> map, int height, int width)
    {
        var boxes = new List<(int, int, int, int)>();
        var seen = new bool[map.Length];
        var stack = new Stack<int>();
        for (int start = 0; start < map.Length; start++)
        {
            if (seen[start] || !(map[start] > PixelThreshold))
            {
                continue;
            }

            // One 4-connected region: its extent and mean probability.
            int x0 = width, y0 = height, x1 = -1, y1 = -1, count = 0;
            double sum = 0;
            seen[start] = true;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                int y = p / width, x = p % width;
                (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x), Math.Max(y1, y));
                sum += map[p];
                count++;
                foreach (int q in (ReadOnlySpan<int>)[x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1])
                {
                    if (q >= 0 && !seen[q] && map[q] > PixelThreshold)
                    {
                        seen[q] = true;
                        stack.Push(q);
                    }
                }
            }

            int w = x1 - x0 + 1, h = y1 - y0 + 1;
            if (Math.Min(w, h) < MinSide || sum / count < BoxThreshold)
            {
                continue;
            }

            // DB predicts a shrunk text kernel; PaddleOCR grows it back by area × ratio / perimeter on every side.
            double grow = w * h * UnclipRatio / (2.0 * (w + h));
            boxes.Add((Math.Max(0, (int)Math.Round(x0 - grow)), Math.Max(0, (int)Math.Round(y0 - grow)),
                Math.Min(width, (int)Math.Round(x1 + 1 + grow)), Math.Min(height, (int)Math.Round(y1 + 1 + grow))));
        }

        return boxes;
    }

    /// <summary>How many of <paramref name="predicted"/> match a distinct <paramref name="truth"/> box at IoU ≥ 0.5, best pairs first.</summary>
    public static int Matches(IReadOnlyList<(int X0, int Y0, int X1, int Y1)> predicted, IReadOnlyList<(int X0, int Y0, int X1, int Y1)> truth)
    {
        var pairs = new List<(double Iou, int P, int T)>();
        for (int p = 0; p < predicted.Count; p++)
        {
            for (int t = 0; t < truth.Count; t++)
            {
                double iou = Iou(predicted[p], truth[t]);
                if (iou >= MatchIou)
                {
                    pairs.Add((iou, p, t));
                }
            }
        }

        var usedP = new bool[predicted.Count];
        var usedT = new bool[truth.Count];
        int matches = 0;
        foreach ((double _, int p, int t) in pairs.OrderByDescending(x => x.Iou).ThenBy(x => x.P).ThenBy(x => x.T))
        {
            if (!usedP[p] && !usedT[t])
            {
                usedP[p] = usedT[t] = true;
                matches++;
            }
        }

        return matches;
    }

    private static double Iou((int X0, int Y0, int X1, int Y1) a, (int X0, int Y0, int X1, int Y1) b)
    {
        long iw = Math.Max(0, Math.Min(a.X1, b.X1) - Math.Max(a.X0, b.X0));
        long ih = Math.Max(0, Math.Min(a.Y1, b.Y1) - Math.Max(a.Y0, b.Y0));
        long inter = iw * ih;
        long union = (long)(a.X1 - a.X0) * (a.Y1 - a.Y0) + (long)(b.X1 - b.X0) * (b.Y1 - b.Y0) - inter;
        return union <= 0 ? 0 : (double)inter / union;
    }

    private sealed class Tally : IMetricAccumulator
    {
        private long _matches;
        private long _predicted;
        private long _truth;

        public void Add(MetricBatch batch)
        {
            DenseTensor output = batch.Output;
            DenseTensor labels = batch.Labels ?? throw new InvalidOperationException("box_fscore needs labels.");
            if (!(output.Rank == 4 && output.Shape[1] == 1) && output.Rank != 3)
            {
                throw new QuantBuildException("QB1302", $"box_fscore reads a probability map [n, 1, H, W] or [n, H, W], but the scored output is {output}.",
                    "set evaluation.output to the detector's probability map (PaddleOCR DB: the sigmoid output)");
            }

            int rows = (int)output.Shape[0];
            int height = (int)output.Shape[^2], width = (int)output.Shape[^1];
            if (labels.Rank != 3 || labels.Shape[0] != rows || labels.Shape[2] != 4)
            {
                throw new QuantBuildException("QB1302", $"box_fscore needs labels [n, max_boxes, 4] for the {rows} maps of this batch, but they are {labels}.",
                    "write evaluation.labels as int32 [n, max_boxes, 4] rows of x0, y0, x1, y1 in map pixels, padded with rows of -1");
            }

            ReadOnlySpan<float> maps = output.AsSpan<float>();
            int perRow = (int)labels.Shape[1] * 4;
            for (int r = 0; r < rows; r++)
            {
                var predicted = Detect(maps.Slice(r * height * width, height * width), height, width);
                var truth = new List<(int, int, int, int)>();
                for (int b = 0; b < labels.Shape[1]; b++)
                {
                    int at = r * perRow + b * 4;
                    long x0 = TopKMetric.LabelAt(labels, at), y0 = TopKMetric.LabelAt(labels, at + 1);
                    long x1 = TopKMetric.LabelAt(labels, at + 2), y1 = TopKMetric.LabelAt(labels, at + 3);
                    if (x0 >= 0 && x1 > x0 && y1 > y0)
                    {
                        truth.Add(((int)x0, (int)y0, (int)x1, (int)y1));
                    }
                }

                _matches += Matches(predicted, truth);
                _predicted += predicted.Count;
                _truth += truth.Count;
            }
        }

        public double Result() => _predicted + _truth == 0 ? 100 : 200.0 * _matches / (_predicted + _truth);
    }
}
