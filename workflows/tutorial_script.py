"""The script of the tutorial emberflow grew from ("Save and Load Machine Learning Models in Python with
scikit-learn"): fit a logistic regression on the Pima Indians diabetes data, pickle it to finalized_model.sav, load
it back and print its accuracy on the test part.

As the tutorial wrote it, but for where the files are: the tutorial downloads pima-indians-diabetes.data.csv (768
rows, no header); here it is put together from the two parts the examples ship (data/diabetes.csv, the first 700
rows, and data/diabetes_new.csv, the other 68, each with a header) into output/, and the model is written to
output/finalized_model.sav (files opened in with blocks). workflows/score_tutorial_pickle.yaml then loads that
pickle in a workflow and scores the same test rows: it finds the accuracy printed here.

Run from the repository's root: python workflows/tutorial_script.py
"""

import pickle
from pathlib import Path

import pandas
from sklearn import model_selection
from sklearn.linear_model import LogisticRegression

out = Path("output")
out.mkdir(exist_ok=True)
rows = []
for part in ("diabetes.csv", "diabetes_new.csv"):
    rows += (Path(__file__).resolve().parent / "data" / part).read_text().strip().splitlines()[1:]
url = out / "pima-indians-diabetes.data.csv"
url.write_text("\n".join(rows) + "\n")

# The tutorial's script from here on.
names = ['preg', 'plas', 'pres', 'skin', 'test', 'mass', 'pedi', 'age', 'class']
dataframe = pandas.read_csv(url, names=names)
array = dataframe.values
X = array[:, 0:8]
Y = array[:, 8]
test_size = 0.33
seed = 7
X_train, X_test, Y_train, Y_test = model_selection.train_test_split(X, Y, test_size=test_size, random_state=seed)
# Fit the model on training set
model = LogisticRegression()
model.fit(X_train, Y_train)
# save the model to disk
filename = out / 'finalized_model.sav'
with open(filename, 'wb') as handle:
    pickle.dump(model, handle)

# some time later...

# load the model from disk
with open(filename, 'rb') as handle:
    loaded_model = pickle.load(handle)
result = loaded_model.score(X_test, Y_test)
print(result)
