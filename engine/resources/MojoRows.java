import au.com.bytecode.opencsv.CSVReader;
import hex.ModelCategory;
import hex.genmodel.MojoModel;
import hex.genmodel.easy.EasyPredictModelWrapper;
import hex.genmodel.easy.RowData;
import hex.genmodel.easy.prediction.BinomialModelPrediction;
import hex.genmodel.easy.prediction.MultinomialModelPrediction;
import hex.genmodel.easy.prediction.RegressionModelPrediction;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * emberflow serve's H2O scorer: one MOJO, loaded once, scoring the rows it reads on stdin for as long as stdin
 * stays open.
 *
 * The rows are read and scored as h2o-genmodel's PredictCsv reads and scores a CSV file (emberflow's batch
 * Score, mode: mojo), so that both give the same numbers: each cell is a text (empty, NA, N/A and - are
 * missing values), an unknown category is a missing value, and the answer holds the same columns written the
 * same way (the label, then each class's probability, or the predicted number).
 *
 * Protocol (UTF-8): a request is CSV records: one holding the row count n, the header, then n rows. The answer
 * is a line "OK bytes" followed by that many bytes of CSV (a header, then one line per row), or a line
 * "ERROR bytes" followed by the message. After loading the MOJO it writes "READY category" (or an ERROR).
 */
public final class MojoRows {
  private final EasyPredictModelWrapper wrapper;
  private final ModelCategory category;

  private MojoRows(String mojo) throws IOException {
    wrapper = new EasyPredictModelWrapper(new EasyPredictModelWrapper.Config()
        .setModel(MojoModel.load(mojo))
        .setConvertUnknownCategoricalLevelsToNa(true)
        .setConvertInvalidNumbersToNa(false));
    category = wrapper.getModelCategory();
  }

  public static void main(String[] args) throws IOException {
    OutputStream out = new FileOutputStream(FileDescriptor.out);
    System.setOut(System.err); // anything the library prints must not mix with the answers
    MojoRows scorer;
    try {
      scorer = new MojoRows(args[0]);
    } catch (Exception e) {
      send(out, "ERROR", describe(e));
      System.exit(1);
      return;
    }
    if (scorer.category != ModelCategory.Binomial && scorer.category != ModelCategory.Multinomial
        && scorer.category != ModelCategory.Regression) {
      send(out, "ERROR", "a " + scorer.category + " model: emberflow serves classifiers and regressions");
      System.exit(1);
      return;
    }
    out.write(("READY " + scorer.category + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    CSVReader reader = new CSVReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), ',');
    String[] count;
    while ((count = reader.readNext()) != null) {
      scorer.answer(reader, Integer.parseInt(count[0].trim()), out);
    }
  }

  /** Reads one request's header and rows, and writes its answer. */
  private void answer(CSVReader reader, int rows, OutputStream out) throws IOException {
    String[] names = reader.readNext();
    StringBuilder answer = new StringBuilder();
    writeRecord(answer, wrapper.getModel().getOutputNames());
    String failure = null;
    for (int i = 0; i < rows; i++) {
      String[] cells = reader.readNext();
      if (failure != null) {
        continue; // the request's remaining rows are read all the same
      }
      try {
        score(row(cells, names), answer);
      } catch (Exception e) {
        failure = "row " + (i + 1) + ": " + describe(e);
      }
    }
    if (failure == null) {
      send(out, "OK", answer.toString());
    } else {
      send(out, "ERROR", failure);
    }
  }

  /** A row as PredictCsv makes it: every cell as text, the missing ones left out. */
  private static RowData row(String[] cells, String[] names) {
    RowData row = new RowData();
    for (int i = 0; i < Math.min(cells.length, names.length); i++) {
      switch (cells[i]) {
        case "":
        case "NA":
        case "N/A":
        case "-":
          continue;
        default:
          row.put(names[i], cells[i]);
      }
    }
    return row;
  }

  private void score(RowData row, StringBuilder answer) throws Exception {
    if (category == ModelCategory.Regression) {
      RegressionModelPrediction p = wrapper.predictRegression(row, 0.0);
      answer.append(number(p.value)).append('\n');
      return;
    }
    String label;
    double[] probabilities;
    if (category == ModelCategory.Binomial) {
      BinomialModelPrediction p = wrapper.predictBinomial(row, 0.0);
      label = p.label;
      probabilities = p.classProbabilities;
    } else {
      MultinomialModelPrediction p = wrapper.predictMultinomial(row);
      label = p.label;
      probabilities = p.classProbabilities;
    }
    answer.append(quoted(label));
    for (double probability : probabilities) {
      answer.append(',').append(number(probability));
    }
    answer.append('\n');
  }

  private static String number(double value) {
    return Double.isNaN(value) ? "NA" : Double.toString(value);
  }

  private static void writeRecord(StringBuilder answer, String[] fields) {
    for (int i = 0; i < fields.length; i++) {
      answer.append(i > 0 ? "," : "").append(quoted(fields[i]));
    }
    answer.append('\n');
  }

  private static String quoted(String text) {
    return text == null ? "" : "\"" + text.replace("\"", "\"\"") + "\"";
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message.replace('\n', ' '));
  }

  private static void send(OutputStream out, String status, String text) throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    out.write((status + " " + body.length + "\n").getBytes(StandardCharsets.UTF_8));
    out.write(body);
    out.flush();
  }
}
