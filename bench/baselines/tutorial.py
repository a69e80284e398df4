"""Baseline of workflows/tutorial.yaml: the script of the tutorial emberflow grew from ("Save and Load Machine
Learning Models in Python with scikit-learn"), as it is written there, with the two file names as arguments and
the files opened in ``with`` blocks.

Usage: python tutorial.py pima-indians-diabetes.data.csv finalized_model.sav
Prints the accuracy of the reloaded model on the test part.
"""

import pickle
import sys

import pandas
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

url, filename = sys.argv[1:3]
names = ['preg', 'plas', 'pres', 'skin', 'test', 'mass', 'pedi', 'age', 'class']
dataframe = pandas.read_csv(url, names=names)
array = dataframe.values
X = array[:, 0:8]
Y = array[:, 8]
test_size = 0.33
seed = 7
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=test_size, random_state=seed)
# Fit the model on the training part
model = LogisticRegression()
model.fit(X_train, Y_train)
# save the model to disk
with open(filename, 'wb') as handle:
    pickle.dump(model, handle)
# some time later... load the model from disk
with open(filename, 'rb') as handle:
    loaded_model = pickle.load(handle)
result = loaded_model.score(X_test, Y_test)
print(result)
